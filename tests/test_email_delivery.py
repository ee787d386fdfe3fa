"""Getting email out once: claims, retries, one-click unsubscribe, bounces and complaints.

The only stand-in is the mail provider itself: `FlakyBackend`, an email backend that fails
the way an Anymail ESP does (or accepts), selected through EMAIL_BACKEND.
"""

import json
from datetime import date, datetime, timedelta
from html import unescape
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from anymail.signals import AnymailTrackingEvent, tracking
from celery.exceptions import SoftTimeLimitExceeded
from django.core import signing
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse

from common import mail
from common.builders import Builder, EmailKind
from common.mail import ClaimStatus, EmailClaim
from outerloop import emails
from outerloop.celery import app as celery_app
from outerloop.tasks import nudge_tick, review_tick, send_nudge, send_review
from reactions.tasks import notify_fresh_link, notify_reaction
from tests.conftest import NOW
from tests.factories import BuilderFactory
from tests.providers import WEBHOOK_SECRET, basic_auth, postmark_bounce, reload_urls

TODAY = date(2026, 3, 10)  # NOW's date in Berlin
SUNDAY_SIX_PM = datetime(2026, 3, 15, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))


class FlakyBackend(BaseEmailBackend):
    """The mail provider: raises each of `errors` in turn, then accepts everything."""

    errors: list[Exception] = []
    calls = 0
    sent: list = []

    def send_messages(self, email_messages) -> int:
        FlakyBackend.calls += 1
        if FlakyBackend.errors:
            raise FlakyBackend.errors.pop(0)
        FlakyBackend.sent.extend(email_messages)
        return len(email_messages)


@pytest.fixture
def provider(settings) -> type[FlakyBackend]:
    settings.EMAIL_BACKEND = "tests.test_email_delivery.FlakyBackend"
    FlakyBackend.errors, FlakyBackend.calls, FlakyBackend.sent = [], 0, []
    yield FlakyBackend
    FlakyBackend.errors, FlakyBackend.calls, FlakyBackend.sent = [], 0, []


@pytest.fixture
def worker_retries():
    """Eager tasks retry the way a worker does (Retry re-runs the task, it does not raise)."""
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = True


def api_error(status: int, message: str) -> AnymailAPIError:
    """What Anymail raises when the ESP's API answers `status`."""
    response = requests.Response()
    response.status_code = status
    response.reason = HTTPStatus(status).phrase
    response._content = json.dumps({"ErrorCode": 0, "Message": message}).encode()
    return AnymailAPIError(message, status_code=status, response=response, esp_name="Postmark")


def unavailable() -> AnymailAPIError:
    return api_error(503, "Postmark is down for maintenance")


def nudge_claim(builder: Builder) -> EmailClaim:
    return EmailClaim.objects.get(builder=builder, kind=EmailKind.NUDGE, period=TODAY.isoformat())


# Transient and permanent provider errors -----------------------------------------------------


def test_a_transient_provider_error_leaves_the_claim_for_a_retry(owner, provider):
    provider.errors = [unavailable()]

    with pytest.raises(mail.TransientEmailError):
        emails.send_nudge(owner.pk, TODAY)

    claim = nudge_claim(owner)
    assert (claim.status, claim.attempts) == (ClaimStatus.RETRY, 1)
    assert claim.lease_until == NOW + mail.RETRY_LEASE  # Celery's retry is due well before
    assert claim.last_error.startswith("AnymailAPIError: Postmark is down for maintenance")
    assert provider.sent == []


def test_a_retry_whose_message_was_lost_is_queued_again_after_its_lease(
    owner, provider, time_machine
):
    """Redis restarted without persistence while the retry waited: the next tick sends it."""
    provider.errors = [unavailable()]
    with pytest.raises(mail.TransientEmailError):
        emails.send_nudge(owner.pk, TODAY)

    assert nudge_tick() == 0  # the retry may still come: nothing is queued again
    time_machine.move_to(NOW + mail.RETRY_LEASE + timedelta(minutes=1), tick=False)
    assert nudge_tick() == 1

    assert [message.to for message in provider.sent] == [["alex@example.com"]]
    assert nudge_claim(owner).status == ClaimStatus.SENT


def test_a_provider_that_hangs_past_the_time_limit_is_tried_again(owner, provider):
    provider.errors = [SoftTimeLimitExceeded()]  # what the worker raises at the soft limit

    with pytest.raises(mail.TransientEmailError):
        emails.send_nudge(owner.pk, TODAY)

    assert nudge_claim(owner).status == ClaimStatus.RETRY
    assert emails.send_nudge(owner.pk, TODAY)
    assert len(provider.sent) == 1


def test_a_later_attempt_after_a_transient_error_sends_exactly_once(owner, provider):
    provider.errors = [unavailable()]
    with pytest.raises(mail.TransientEmailError):
        emails.send_nudge(owner.pk, TODAY)

    assert emails.send_nudge(owner.pk, TODAY) is True
    assert emails.send_nudge(owner.pk, TODAY) is False
    nudge_tick()

    assert [message.to for message in provider.sent] == [["alex@example.com"]]
    claim = nudge_claim(owner)
    assert (claim.status, claim.attempts, claim.last_error) == (ClaimStatus.SENT, 2, "")
    assert claim.sent_at == NOW


@pytest.mark.parametrize(
    "error",
    [
        api_error(503, "Service unavailable"),
        api_error(429, "Too many requests"),
        AnymailAPIError("Read timed out"),  # no response at all
        TimeoutError("timed out"),
        ConnectionResetError("connection reset by peer"),
    ],
    ids=["503", "429", "no-response", "timeout", "connection-reset"],
)
def test_the_send_nudge_task_retries_a_transient_error_and_sends_once(
    owner, provider, worker_retries, error
):
    provider.errors = [error]

    assert send_nudge.delay(owner.pk, TODAY.isoformat()).get() is True

    assert provider.calls == 2
    assert len(provider.sent) == 1
    assert (nudge_claim(owner).status, nudge_claim(owner).attempts) == (ClaimStatus.SENT, 2)


def test_a_provider_that_keeps_failing_ends_with_a_failed_claim(owner, provider, worker_retries):
    provider.errors = [unavailable() for _ in range(mail.MAX_ATTEMPTS + 5)]

    send_nudge.delay(owner.pk, TODAY.isoformat())

    claim = nudge_claim(owner)
    assert (claim.status, claim.attempts) == (ClaimStatus.FAILED, mail.MAX_ATTEMPTS)
    assert provider.calls == mail.MAX_ATTEMPTS
    assert provider.sent == []


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            api_error(422, "Invalid 'To' address: 'alex@example'"),
            "AnymailAPIError: Invalid 'To' address: 'alex@example'\n"
            "Postmark API response 422 (Unprocessable",
        ),
        (api_error(400, "Bad request"), "AnymailAPIError: Bad request"),
        (
            AnymailRecipientsRefused("All message recipients were rejected"),
            "AnymailRecipientsRefused: All message recipients were rejected",
        ),
    ],
    ids=["422", "400", "recipients-refused"],
)
def test_a_permanent_provider_error_marks_the_claim_failed_without_retrying(
    owner, provider, error, text
):
    provider.errors = [error]

    assert send_nudge.delay(owner.pk, TODAY.isoformat()).get() is False

    assert provider.calls == 1
    claim = nudge_claim(owner)
    assert (claim.status, claim.attempts, claim.lease_until) == (ClaimStatus.FAILED, 1, None)
    assert claim.last_error.startswith(text)
    # Nothing tries again: not a tick, not a redelivered task.
    nudge_tick()
    assert emails.send_nudge(owner.pk, TODAY) is False
    assert provider.calls == 1


def test_a_failed_claim_is_visible_in_the_admin(owner, provider, client):
    provider.errors = [api_error(422, "Invalid 'To' address")]
    send_nudge.delay(owner.pk, TODAY.isoformat())
    operator = BuilderFactory(email="operator@example.com", is_staff=True, is_superuser=True)
    client.force_login(operator)

    page = client.get("/admin/outerloop/emailclaim/", {"status__exact": "failed"}).content.decode()

    assert "alex@example.com" in page
    assert "2026-03-10" in page
    assert "1 email claim" in page


# Two workers, one claim ----------------------------------------------------------------------


def claim_held(builder: Builder, lease_until: datetime) -> EmailClaim:
    return EmailClaim.objects.create(
        builder=builder,
        kind=EmailKind.NUDGE,
        period=TODAY.isoformat(),
        status=ClaimStatus.SENDING,
        attempts=1,
        lease_until=lease_until,
    )


def test_a_claim_another_worker_is_sending_is_not_sent_twice(owner, provider):
    held = claim_held(owner, NOW + mail.LEASE - timedelta(seconds=1))

    assert emails.send_nudge(owner.pk, TODAY) is False
    assert send_nudge.delay(owner.pk, TODAY.isoformat()).get() is False
    nudge_tick()
    email = mail.Email(kind="nudge", to=owner, unsubscribe="nudges_enabled")
    assert mail.deliver(held, email) is False

    assert provider.calls == 0
    held.refresh_from_db()
    assert (held.status, held.attempts) == (ClaimStatus.SENDING, 1)


def test_a_stale_lease_of_a_dead_worker_is_taken_over_once(owner, provider):
    """The worker died mid-send; its redelivered task finds the lease expired and sends."""
    claim_held(owner, NOW - timedelta(seconds=1))

    assert send_nudge.delay(owner.pk, TODAY.isoformat()).get() is True
    assert send_nudge.delay(owner.pk, TODAY.isoformat()).get() is False

    assert len(provider.sent) == 1
    claim = nudge_claim(owner)
    assert (claim.status, claim.attempts, claim.lease_until) == (ClaimStatus.SENT, 2, None)


def test_taking_a_claim_is_a_conditional_update_only_one_caller_wins(owner, provider):
    claim = mail.claim(owner, EmailKind.NUDGE, TODAY.isoformat())
    email = mail.Email(kind="nudge", to=owner, context={"day": TODAY}, unsubscribe="nudges_enabled")

    assert mail.deliver(claim, email) is True
    assert mail.deliver(claim, email) is False
    assert mail.claim(owner, EmailKind.NUDGE, TODAY.isoformat()) is None
    assert len(provider.sent) == 1


# One-click unsubscribe (RFC 8058) ------------------------------------------------------------


def unsubscribe_path(builder: Builder, switch: str) -> str:
    return mail.unsubscribe_url(builder, switch).removeprefix("http://127.0.0.1:8000")


def switches(builder: Builder) -> dict[str, bool]:
    builder.refresh_from_db()
    return {
        "nudges_enabled": builder.nudges_enabled,
        "reviews_enabled": builder.reviews_enabled,
        "notices_enabled": builder.notices_enabled,
        "email_paused": builder.email_paused,
    }


ALL_ON = {
    "nudges_enabled": True,
    "reviews_enabled": True,
    "notices_enabled": True,
    "email_paused": False,
}


@pytest.mark.parametrize(
    ("switch", "what"),
    [
        ("nudges_enabled", "the daily nudge"),
        ("reviews_enabled", "the weekly review"),
        ("notices_enabled", "reaction notices"),
    ],
)
def test_the_unsubscribe_get_asks_first_and_changes_nothing(owner, client, switch, what):
    response = client.get(unsubscribe_path(owner, switch))

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Stop {what}?" in page
    assert "alex@example.com" in page
    assert '<button class="btn" type="submit">Unsubscribe</button>' in page
    assert switches(owner) == ALL_ON


@pytest.mark.parametrize("switch", ["nudges_enabled", "reviews_enabled", "notices_enabled"])
def test_one_click_post_without_login_or_csrf_turns_off_exactly_that_switch(owner, switch):
    mail_client = Client(enforce_csrf_checks=True)  # what a mail provider's POST looks like

    response = mail_client.post(
        unsubscribe_path(owner, switch),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "We won't send" in response.content.decode()
    assert switches(owner) == {**ALL_ON, switch: False}


def test_after_one_click_unsubscribe_no_nudge_goes_out(owner, client, outbox):
    client.post(unsubscribe_path(owner, "nudges_enabled"), data={"List-Unsubscribe": "One-Click"})

    nudge_tick()

    assert outbox == []


def test_the_unsubscribe_link_in_a_sent_nudge_works(owner, outbox):
    nudge_tick()
    link = outbox[0].extra_headers["List-Unsubscribe"].strip("<>")

    Client(enforce_csrf_checks=True).post(
        link.removeprefix("http://127.0.0.1:8000"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert switches(owner) == {**ALL_ON, "nudges_enabled": False}


def test_a_tampered_unsubscribe_token_is_a_400_page(owner, client):
    token = unsubscribe_path(owner, "nudges_enabled").split("/")[-2]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    for method in (client.get, client.post):
        response = method(reverse("outerloop:unsubscribe", args=[tampered]))
        assert response.status_code == 400
        assert "That link doesn't work" in response.content.decode()
    assert switches(owner) == ALL_ON


def test_an_unsubscribe_token_for_another_field_is_refused(owner, client):
    """The token is signed, but it only ever turns off one of the three email switches."""
    token = signing.dumps({"b": owner.pk, "s": "is_active"}, salt=mail.UNSUBSCRIBE_SALT)

    response = client.post(reverse("outerloop:unsubscribe", args=[token]))

    assert response.status_code == 400
    owner.refresh_from_db()
    assert owner.is_active is True


def test_a_token_signed_for_something_else_is_refused(owner, client):
    token = signing.dumps({"b": owner.pk, "s": "nudges_enabled"}, salt="another.purpose")

    response = client.post(reverse("outerloop:unsubscribe", args=[token]))

    assert response.status_code == 400
    assert switches(owner) == ALL_ON


# Bounces and complaints ----------------------------------------------------------------------


def provider_event(
    event_type: str, recipient: str = "alex@example.com", reject_reason: str | None = None
) -> None:
    event = AnymailTrackingEvent(
        event_type=event_type,
        reject_reason=reject_reason,
        recipient=recipient,
        timestamp=NOW - timedelta(minutes=3),
        esp_event={},
    )
    tracking.send(sender=object, event=event, esp_name="Postmark")


@pytest.mark.parametrize(
    ("event_type", "reject_reason", "stop"),
    [
        ("bounced", None, "bounced"),
        ("complained", None, "complained"),
        ("rejected", "invalid", "bounced"),
    ],
)
def test_a_bounce_or_complaint_marks_the_address_undeliverable(
    owner, event_type, reject_reason, stop
):
    provider_event(event_type, recipient="Alex@Example.com", reject_reason=reject_reason)

    owner.refresh_from_db()
    assert owner.email_undeliverable_at == NOW - timedelta(minutes=3)
    assert owner.email_undeliverable_reason == stop
    assert [kind for kind in EmailKind if owner.may_receive(kind)] == []


@pytest.mark.parametrize("event_type", ["delivered", "opened", "clicked", "deferred"])
def test_other_tracking_events_stop_nothing(owner, event_type):
    provider_event(event_type)

    owner.refresh_from_db()
    assert owner.email_undeliverable_at is None


def test_a_bounce_for_someone_else_leaves_the_builder_alone(owner):
    provider_event("bounced", recipient="stranger@example.com")

    owner.refresh_from_db()
    assert owner.email_undeliverable_at is None


def test_an_undeliverable_address_gets_no_nudge_and_no_review(owner, time_machine, outbox):
    provider_event("bounced")

    nudge_tick()
    time_machine.move_to(SUNDAY_SIX_PM, tick=False)
    review_tick()

    assert outbox == []
    assert not EmailClaim.objects.filter(builder=owner).exists()


@pytest.mark.parametrize(
    ("event_type", "says"),
    [("bounced", "bounced"), ("complained", "was marked as spam")],
)
def test_the_dashboard_says_email_stopped_and_why(owner, owner_client, event_type, says):
    provider_event(event_type)

    page = unescape(owner_client.get(reverse("outerloop:dashboard")).content.decode())

    assert f"Email to alex@example.com {says}</strong> on 10 Mar" in page
    assert "nudges, reviews and notices are stopped" in page
    assert "It's fixed: email me again</button>" in page


def test_its_fixed_resumes_email(owner, owner_client, outbox):
    provider_event("bounced")

    response = owner_client.post(reverse("outerloop:email-resume"))

    assert response.status_code == 302
    assert response["Location"] == reverse("outerloop:settings")
    owner.refresh_from_db()
    assert (owner.email_undeliverable_at, owner.email_undeliverable_reason) == (None, "")
    assert "are stopped" not in owner_client.get(reverse("outerloop:dashboard")).content.decode()
    nudge_tick()
    assert [message.to for message in outbox] == [["alex@example.com"]]


def test_its_fixed_needs_a_login_and_a_post(owner, client, owner_client):
    provider_event("bounced")

    assert owner_client.get(reverse("outerloop:email-resume")).status_code == 405
    client.post(reverse("outerloop:email-resume"))

    owner.refresh_from_db()
    assert owner.email_undeliverable_at is not None


# The webhook ---------------------------------------------------------------------------------


@pytest.fixture
def webhook(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    reload_urls()
    yield "/anymail/postmark/tracking/"
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}
    reload_urls()


def test_a_postmark_bounce_webhook_marks_the_builder(owner, client, webhook, outbox):
    response = client.post(
        webhook,
        data=json.dumps(postmark_bounce("alex@example.com")),
        content_type="application/json",
        headers=basic_auth(WEBHOOK_SECRET),
    )

    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.email_undeliverable_reason == "bounced"
    assert owner.email_undeliverable_at == datetime(2026, 3, 10, 11, 57, tzinfo=ZoneInfo("UTC"))
    nudge_tick()
    assert outbox == []


def test_a_postmark_spam_complaint_webhook_marks_the_builder(owner, client, webhook):
    response = client.post(
        webhook,
        data=json.dumps(
            postmark_bounce("alex@example.com", kind="SpamComplaint", record="SpamComplaint")
        ),
        content_type="application/json",
        headers=basic_auth(WEBHOOK_SECRET),
    )

    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.email_undeliverable_reason == "complained"


@pytest.mark.parametrize(
    "headers",
    [{}, basic_auth("postmark:guessed"), basic_auth(WEBHOOK_SECRET + "x")],
    ids=["no-auth", "wrong-password", "almost-right"],
)
def test_the_webhook_refuses_posts_without_the_secret(owner, client, webhook, headers):
    response = client.post(
        webhook,
        data=json.dumps(postmark_bounce("alex@example.com")),
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code in {400, 401, 403}
    owner.refresh_from_db()
    assert owner.email_undeliverable_at is None


def test_without_a_webhook_secret_there_is_no_webhook_url(owner, client, settings):
    assert "WEBHOOK_SECRET" not in settings.ANYMAIL
    reload_urls()

    response = client.post(
        "/anymail/postmark/tracking/",
        data=json.dumps(postmark_bounce("alex@example.com")),
        content_type="application/json",
        headers=basic_auth(WEBHOOK_SECRET),
    )

    assert response.status_code == 404
    owner.refresh_from_db()
    assert owner.email_undeliverable_at is None


@pytest.mark.parametrize("task", [send_nudge, send_review, notify_reaction, notify_fresh_link])
def test_no_email_retry_waits_longer_than_the_brokers_visibility_timeout(task, settings):
    """A retry is an ETA message: held past the visibility timeout, Redis would redeliver it."""
    assert task.acks_late is True
    assert task.autoretry_for == (mail.TransientEmailError,)
    assert task.retry_backoff_max <= settings.CELERY_VISIBILITY_TIMEOUT
