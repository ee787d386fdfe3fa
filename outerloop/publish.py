"""Publish: "keep it on my domain". A request emails the operator; a person wires the DNS."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from common import mail, outbox
from common.builders import Builder, EmailKind
from reactions.models import Reaction
from sessions.models import Preview, PublishRequest, PublishStatus

QUOTED_REACTIONS = 10


def publishing_enabled() -> bool:
    return bool(settings.OUTERLOOP_OPERATOR_EMAIL)


def counting_reactions(preview: Preview):
    return Reaction.objects.counting().filter(share__preview=preview)


@transaction.atomic
def request_publish(preview: Preview, domain: str, note: str) -> PublishRequest:
    publish = PublishRequest.objects.create(preview=preview, domain=domain, note=note)
    outbox.queue_email(preview.session.builder, EmailKind.PUBLISH, _period(publish, "request"))
    return publish


@transaction.atomic
def decide(publish: PublishRequest, status: str, *, final_url: str = "", message: str = "") -> None:
    """The operator's answer, from the admin: wired (with the final URL) or declined."""
    publish.status = status
    publish.final_url = final_url
    publish.operator_message = message
    publish.decided_at = timezone.now()
    publish.save(update_fields=["status", "final_url", "operator_message", "decided_at"])
    builder = publish.preview.session.builder
    outbox.queue_email(builder, EmailKind.PUBLISH, _period(publish, "decision"))


def _period(publish: PublishRequest, which: str) -> str:
    return (
        f"request:{publish.pk}" if which == "request" else f"decision:{publish.pk}:{publish.status}"
    )


def send_unclaimed(publish_id: int, which: str) -> bool:
    """Send the operator's ("request") or the builder's ("decision") email for a request
    whose claim was never written (its message predates the outbox)."""
    publish = (
        PublishRequest.objects.select_related("preview__session__builder")
        .filter(pk=publish_id)
        .first()
    )
    if publish is None:
        return False
    builder = publish.preview.session.builder
    return outbox.claim_and_send(builder, EmailKind.PUBLISH, _period(publish, which))


def _load(period: str) -> PublishRequest | None:
    """The publish request a claim's period ("request:7", "decision:7:wired") names."""
    publish_id = int(period.split(":")[1])
    return (
        PublishRequest.objects.select_related("preview__session__builder")
        .filter(pk=publish_id)
        .first()
    )


@outbox.composer(EmailKind.PUBLISH)
def compose(builder: Builder, period: str) -> mail.Email | None:
    if period.startswith("request:"):
        return operator_email(period)
    return decision_email(period)


def operator_email(period: str) -> mail.Email | None:
    """The request, to OUTERLOOP_OPERATOR_EMAIL: about the builder, not to them, so their
    address's state does not stop it."""
    publish = _load(period)
    if publish is None or not publishing_enabled():
        return None
    reactions = counting_reactions(publish.preview).select_related("share__recipient")
    admin_path = reverse("admin:build_sessions_publishrequest_change", args=[publish.pk])
    return mail.Email(
        kind="publish-request",
        to=publish.preview.session.builder,
        to_email=settings.OUTERLOOP_OPERATOR_EMAIL,
        context={
            "publish": publish,
            "reactions": list(reactions[:QUOTED_REACTIONS]),
            "reaction_count": reactions.count(),
            "admin_url": settings.OUTERLOOP_BASE_URL + admin_path,
        },
    )


def decision_email(period: str) -> mail.Email | None:
    """The builder hears the operator's answer, once there is one. A direct reply to their
    request: `Builder.may_receive` lets it go even with email paused, but only to an address
    that works (the outbox applies that)."""
    publish = _load(period)
    if publish is None or publish.status == PublishStatus.REQUESTED:
        return None
    return mail.Email(
        kind="publish-decision", to=publish.preview.session.builder, context={"publish": publish}
    )
