"""Notices to the builder: a counting reaction arrived; someone asked for a fresh link.

Each is a composer for the outbox (common.outbox), which claims, checks `Builder.may_receive`
and sends. The worker claims a notice as it starts, so a declined one stays recorded as
skipped. Once a notice is settled (sent, given up on or declined) the outbox marks its row
(`Reaction.notified_at`, `Share.fresh_link_notified_at`); `reactions.tasks.outbox_sweep`
queues again the ones whose message was lost.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from common import mail, outbox
from common.builders import Builder, EmailKind
from reactions.models import Reaction, Share


def _share_url(share: Share) -> str:
    return settings.OUTERLOOP_BASE_URL + reverse("reactions:share-detail", args=[share.pk])


def _pk(period: str) -> int:
    """The id a notice's period names ("reaction:12", "share:7")."""
    return int(period.split(":", 1)[1])


def send_reaction_notice(reaction_id: int) -> bool:
    """Tell the builder about this reaction, once, unless its notice is settled already.
    True when it went out now; raises mail.TransientEmailError for the task to retry."""
    reaction = (
        Reaction.objects.select_related("share__recipient__builder")
        .filter(pk=reaction_id, notified_at__isnull=True)
        .first()
    )
    if reaction is None:
        return False
    builder = reaction.share.recipient.builder
    return outbox.claim_and_send(builder, EmailKind.REACTION, f"reaction:{reaction.pk}")


def _reaction_notified(period: str) -> None:
    Reaction.objects.filter(pk=_pk(period)).update(notified_at=timezone.now())


@outbox.composer(EmailKind.REACTION, swept=False, settled=_reaction_notified)
def reaction_notice(builder: Builder, period: str) -> mail.Email | None:
    """The reaction's words and who said them, while it still counts (the builder may have
    marked it polite or scripted since it arrived)."""
    reaction = (
        Reaction.objects.select_related("share__recipient", "share__preview__session")
        .filter(pk=_pk(period))
        .first()
    )
    if reaction is None or not reaction.is_counting:
        return None
    return mail.Email(
        kind="reaction",
        to=builder,
        context={
            "reaction": reaction,
            "share": reaction.share,
            "share_url": _share_url(reaction.share),
        },
        unsubscribe="notices_enabled",
    )


def send_fresh_link_notice(share_id: int) -> bool:
    """Tell the builder that someone asked for a fresh link, once, unless that notice is
    settled already. True when it went out now; raises mail.TransientEmailError for the
    task to retry."""
    share = (
        Share.objects.select_related("recipient__builder")
        .filter(
            pk=share_id, fresh_link_requested_at__isnull=False, fresh_link_notified_at__isnull=True
        )
        .first()
    )
    if share is None:
        return False
    return outbox.claim_and_send(share.recipient.builder, EmailKind.FRESH_LINK, f"share:{share.pk}")


def _fresh_link_notified(period: str) -> None:
    Share.objects.filter(pk=_pk(period)).update(fresh_link_notified_at=timezone.now())


@outbox.composer(EmailKind.FRESH_LINK, swept=False, settled=_fresh_link_notified)
def fresh_link_notice(builder: Builder, period: str) -> mail.Email | None:
    """Who came back to an expired link and asked for a fresh one, with a link to renew it."""
    share = (
        Share.objects.select_related("recipient", "preview__session")
        .filter(pk=_pk(period), fresh_link_requested_at__isnull=False)
        .first()
    )
    if share is None:
        return None
    renew_url = settings.OUTERLOOP_BASE_URL + reverse("reactions:share-renew", args=[share.pk])
    return mail.Email(
        kind="fresh-link",
        to=builder,
        context={"share": share, "share_url": _share_url(share), "renew_url": renew_url},
        unsubscribe="notices_enabled",
    )
