"""Sending a preview to a person, and recording what that person does with it."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from common.text import clean_text
from reactions.browser import device_of
from reactions.models import (
    RETURN_AFTER_SECONDS,
    Reaction,
    Recipient,
    Share,
    Visit,
    VisitKind,
)
from sessions.models import Preview


def find_or_add_recipient(
    builder, name: str, *, note: str = "", lives_with: bool = False
) -> Recipient:
    """The builder's person by that name (any letter case), created on first use.

    `name` is the name alone ("Sam", after `split_name_and_note`); a non-empty `note`
    ("climbing gym") replaces the person's note, an empty one leaves it as it was."""
    name = clean_text(name)
    note = clean_text(note)
    recipient = Recipient.objects.owned_by(builder).named(name).first()
    if recipient is None:
        return Recipient.objects.create(
            builder=builder, name=name, note=note, lives_with=lives_with
        )
    changed = []
    if lives_with and not recipient.lives_with:
        recipient.lives_with = True
        changed.append("lives_with")
    if note and note != recipient.note:
        recipient.note = note
        changed.append("note")
    if changed:
        recipient.save(update_fields=changed)
    return recipient


@transaction.atomic
def share_preview(preview: Preview, recipient: Recipient, channel: str) -> Share:
    """Send `preview` to `recipient` (the same builder's): the new link, stamped with the
    builder's today. Raises ValueError for another builder's person.

    When the preview renews an older one (the same session and URL, as `Preview.renew`
    makes it), this person's links to the older ones are replaced by the new link: once
    their preview expires, they forward to it (`Share.live_replacement`), so the link the
    person already holds keeps working. Nobody else's link is touched."""
    builder = preview.session.builder
    if recipient.builder_id != builder.pk:
        raise ValueError("A share joins a builder's own preview to the same builder's person.")
    now = timezone.now()
    share = Share.objects.create(
        preview=preview,
        recipient=recipient,
        channel=channel,
        sent_at=now,
        day=builder.today(now),
    )
    Share.objects.filter(
        recipient=recipient,
        replaced_by__isnull=True,
        preview__session_id=preview.session_id,
        preview__url=preview.url,
        preview_id__lt=preview.pk,
    ).update(replaced_by=share)
    return share


def is_builders_own(request: HttpRequest, share: Share) -> bool:
    return request.user.is_authenticated and request.user.pk == share.recipient.builder_id


def record_visit(request: HttpRequest, share: Share, kind: str, *, via_qr: bool = False) -> Visit:
    return Visit.objects.create(
        share=share,
        kind=kind,
        device_class=device_of(request),
        by_builder=is_builders_own(request, share),
        via_qr=via_qr,
    )


def classify_page_view(last_seen: datetime | None, now: datetime) -> str | None:
    """First view is an open; a view 30 minutes or more after the previous one is a return."""
    if last_seen is None:
        return VisitKind.OPEN
    if now - last_seen >= timedelta(seconds=RETURN_AFTER_SECONDS):
        return VisitKind.RETURN
    return None


class LinkRemoved(Exception):
    """The link was deleted (`reactions.removal`) while a request was writing to it."""


def record_reaction(
    request: HttpRequest, share: Share, text: str, chip: str = "", idempotency_key: str = ""
) -> tuple[Reaction, bool]:
    """The reaction, and whether it is new: a form posted again with its `idempotency_key`
    (a retry, a resend) gets the reaction it already made, even when both posts race.
    Raises `LinkRemoved` when the builder deleted the link after the request found it."""
    fields = {
        "builder_id": share.recipient.builder_id,
        "text": text,
        "chip": chip,
        "device_class": device_of(request),
        "by_builder": is_builders_own(request, share),
    }
    try:
        with transaction.atomic():
            return Reaction.objects.create(
                share=share, idempotency_key=idempotency_key, **fields
            ), True
    except IntegrityError:
        if not Share.objects.filter(pk=share.pk).exists():
            raise LinkRemoved from None  # deleted since the request found it
        if not idempotency_key:
            raise
        return Reaction.objects.get(share=share, idempotency_key=idempotency_key), False
