"""Publish: "keep it on my domain". A request emails the operator; a person wires the DNS."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from outerloop import mail
from outerloop.models import EmailKind
from outerloop.queue import enqueue_on_commit
from reactions.models import Reaction
from sessions.models import Preview, PublishRequest, PublishStatus

QUOTED_REACTIONS = 10


def publishing_enabled() -> bool:
    return bool(settings.OUTERLOOP_OPERATOR_EMAIL)


def counting_reactions(preview: Preview):
    return Reaction.objects.counting().filter(share__preview=preview)


@transaction.atomic
def request_publish(preview: Preview, domain: str, note: str) -> PublishRequest:
    from outerloop.tasks import notify_operator

    publish = PublishRequest.objects.create(preview=preview, domain=domain, note=note)
    enqueue_on_commit(notify_operator, publish.pk)
    return publish


@transaction.atomic
def decide(publish: PublishRequest, status: str, *, final_url: str = "", message: str = "") -> None:
    """The operator's answer, from the admin: wired (with the final URL) or declined."""
    from outerloop.tasks import notify_publish_decision

    publish.status = status
    publish.final_url = final_url
    publish.operator_message = message
    publish.decided_at = timezone.now()
    publish.save(update_fields=["status", "final_url", "operator_message", "decided_at"])
    enqueue_on_commit(notify_publish_decision, publish.pk)


def _load(publish_id: int) -> PublishRequest | None:
    return (
        PublishRequest.objects.select_related("preview__session__builder")
        .filter(pk=publish_id)
        .first()
    )


def send_operator_email(publish_id: int) -> bool:
    publish = _load(publish_id)
    if publish is None or not publishing_enabled():
        return False
    builder = publish.preview.session.builder
    claim = mail.claim(builder, EmailKind.PUBLISH, f"request:{publish.pk}")
    if claim is None:
        return False
    reactions = counting_reactions(publish.preview).select_related("share__recipient")
    admin_path = reverse("admin:build_sessions_publishrequest_change", args=[publish.pk])
    email = mail.Email(
        kind="publish-request",
        to=builder,
        to_email=settings.OUTERLOOP_OPERATOR_EMAIL,
        context={
            "publish": publish,
            "reactions": list(reactions[:QUOTED_REACTIONS]),
            "reaction_count": reactions.count(),
            "admin_url": settings.OUTERLOOP_BASE_URL + admin_path,
        },
    )
    return mail.deliver(claim, email)


def send_decision_email(publish_id: int) -> bool:
    publish = _load(publish_id)
    if publish is None or publish.status == PublishStatus.REQUESTED:
        return False
    builder = publish.preview.session.builder
    if not builder.is_active or builder.email_undeliverable_at is not None:
        return False
    claim = mail.claim(builder, EmailKind.PUBLISH, f"decision:{publish.pk}:{publish.status}")
    if claim is None:
        return False
    email = mail.Email(kind="publish-decision", to=builder, context={"publish": publish})
    return mail.deliver(claim, email)
