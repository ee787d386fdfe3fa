"""Sending a link to a person (`send_link`): the person, a fresh preview, the link stamped
with the builder's day. Every way a builder sends one goes through `send_link`."""

from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from common import changes
from common.text import clean_text
from reactions.models import Recipient, Share
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
def send_link(
    preview: Preview,
    person: Recipient | str,
    channel: str,
    *,
    note: str = "",
    lives_with: bool = False,
) -> Share:
    """Send a link of `preview` to a person: the one recipe behind every way a builder sends
    one (the dashboard's turn and POST /shares, which the CLI calls, through
    `outerloop.turns.take_turn`; a preview's "Get a link" and POST /previews/{id}/shares;
    "Send again" and "Renew and send again"), written all together or not at all:

    1. the person: `person` itself (the builder's `Recipient`), or the builder's person of
       that name, added on first use (`find_or_add_recipient`, which takes `note` and
       `lives_with`);
    2. a fresh preview: `preview` while it lives, else a renewal of it (`Preview.fresh`), so
       a new link always opens;
    3. the link: stamped with the builder's today, replacing this person's links to older
       previews of the same URL (`share_preview`).

    `channel` is a `Channel`. Returns the saved share; raises ValueError for another
    builder's person."""
    if isinstance(person, str):
        person = find_or_add_recipient(
            preview.session.builder, person, note=note, lives_with=lives_with
        )
    return share_preview(preview.fresh(), person, channel)


def share_preview(preview: Preview, recipient: Recipient, channel: str) -> Share:
    """`send_link`'s last step alone: the link of `preview` as it is, live or expired, for
    `recipient` (the same builder's), stamped with the builder's today. Call it inside a
    transaction (`send_link` does). The app sends every link through `send_link`; the tests
    make links with this one, an expired preview's too. Raises ValueError for another
    builder's person.

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
    renewed = Share.objects.filter(
        recipient=recipient,
        replaced_by__isnull=True,
        preview__session_id=preview.session_id,
        preview__url=preview.url,
        preview_id__lt=preview.pk,
    ).update(replaced_by=share)
    if renewed:  # their pages now forward to this one
        changes.builder_changed(builder.pk)
    return share


# The recipient's URLs (reactions/urls.py), reversed once per URLconf and script prefix with
# this in the token's place: every recipient request needs several, and a `reverse` each is a
# tenth of the page's template time (`make profile`). Not a token's shape: no token holds it.
_TOKEN_SLOT = "~token~"  # noqa: S105 - a placeholder, not a secret
RECIPIENT_PATHS = ("page", "seen", "go", "react", "thanks", "fresh")


def _paths() -> dict[str, str]:
    return _recipient_paths(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@lru_cache(maxsize=16)
def _recipient_paths(urlconf: str, script_prefix: str) -> dict[str, str]:
    return {
        name: reverse(f"reactions:recipient-{name}", args=[_TOKEN_SLOT]) for name in RECIPIENT_PATHS
    }


def recipient_paths(share: Share) -> dict[str, str]:
    """The paths of the share's recipient pages by name (RECIPIENT_PATHS: "page" is
    "/r/<token>/", "react" "/r/<token>/react/", …), as `reverse` gives them."""
    return {name: path.replace(_TOKEN_SLOT, share.token, 1) for name, path in _paths().items()}


def page_path(share: Share) -> str:
    """The path of the share's page, the link the person opens ("/r/<token>/"); its cookies
    are scoped to it."""
    return _paths()["page"].replace(_TOKEN_SLOT, share.token, 1)


def share_link(share: Share, *, via_qr: bool = False) -> str:
    """The share's public URL, as the builder sends it and the QR code holds it:
    OUTERLOOP_BASE_URL and `page_path`, with "?via=qr" for the QR code (`via_qr`), which
    marks the open as in person."""
    return f"{settings.OUTERLOOP_BASE_URL}{page_path(share)}" + ("?via=qr" if via_qr else "")
