"""Notices to the builder: a counting reaction arrived; someone asked for a fresh link."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from common import mail
from common.builders import EmailKind
from reactions.models import Reaction, Share


def _share_url(share: Share) -> str:
    return settings.OUTERLOOP_BASE_URL + reverse("reactions:share-detail", args=[share.pk])


def send_reaction_notice(reaction_id: int) -> bool:
    reaction = (
        Reaction.objects.select_related("share__recipient__builder", "share__preview__session")
        .filter(pk=reaction_id, notified_at__isnull=True)
        .first()
    )
    if reaction is None:
        return False
    builder = reaction.share.recipient.builder
    period = f"reaction:{reaction.pk}"
    if not reaction.is_counting or not builder.may_receive(EmailKind.REACTION):
        mail.skip(builder, EmailKind.REACTION, period, "not counting, or notices off")
        Reaction.objects.filter(pk=reaction.pk).update(notified_at=timezone.now())
        return False
    claim = mail.claim(builder, EmailKind.REACTION, period)
    sent = False
    if claim is not None:
        email = mail.Email(
            kind="reaction",
            to=builder,
            context={
                "reaction": reaction,
                "share": reaction.share,
                "share_url": _share_url(reaction.share),
            },
            unsubscribe="notices_enabled",
        )
        sent = mail.deliver(claim, email)
    # Out of the outbox once settled; a claim another worker holds stays for the sweep, in
    # case that worker dies before it sends.
    if sent or mail.settled(builder, EmailKind.REACTION, period):
        Reaction.objects.filter(pk=reaction.pk).update(notified_at=timezone.now())
    return sent


def send_fresh_link_notice(share_id: int) -> bool:
    share = (
        Share.objects.select_related("recipient__builder", "preview__session")
        .filter(
            pk=share_id, fresh_link_requested_at__isnull=False, fresh_link_notified_at__isnull=True
        )
        .first()
    )
    if share is None:
        return False
    builder = share.recipient.builder
    period = f"share:{share.pk}"
    claim = None
    if builder.may_receive(EmailKind.FRESH_LINK):
        claim = mail.claim(builder, EmailKind.FRESH_LINK, period)
    else:
        mail.skip(builder, EmailKind.FRESH_LINK, period, "notices off")
    sent = False
    if claim is not None:
        renew_url = settings.OUTERLOOP_BASE_URL + reverse("reactions:share-renew", args=[share.pk])
        email = mail.Email(
            kind="fresh-link",
            to=builder,
            context={"share": share, "share_url": _share_url(share), "renew_url": renew_url},
            unsubscribe="notices_enabled",
        )
        sent = mail.deliver(claim, email)
    if sent or mail.settled(builder, EmailKind.FRESH_LINK, period):
        Share.objects.filter(pk=share.pk).update(fresh_link_notified_at=timezone.now())
    return sent
