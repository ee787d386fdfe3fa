"""Mail keeps flowing: what each provider event does to a builder's email (common.bounces).

Every event goes through the real webhook URL as the provider posts it (tests.providers),
and each test checks what the database then holds, what email goes out, and what the
dashboard says.
"""

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from anymail.signals import AnymailTrackingEvent
from django.urls import reverse

from common import bounces
from common.builders import Builder, EmailKind
from outerloop.tasks import nudge_tick
from tests.providers import (
    mailgun_event,
    post,
    postmark_bounce,
    postmark_delivery,
    postmark_record,
    postmark_subscription_change,
    sendgrid_event,
    webhooks,  # noqa: F401 - the fixture
)

ALEX = "alex@example.com"
# Alex's nudge is at 10:00 in Berlin: 09:00 UTC in March.
NUDGE_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
STOPPED = "nudges, reviews and notices are stopped"
PAUSED = "So nudges, reviews and notices are paused."

pytestmark = pytest.mark.usefixtures("webhooks")


def mailbox(builder: Builder) -> tuple:
    builder.refresh_from_db()
    return (
        builder.email_undeliverable_reason,
        builder.email_soft_bounces,
        builder.may_receive(EmailKind.NUDGE),
    )


CLEAN = ("", 0, True)
SOFT = ("", 1, True)


def stopped(reason: str) -> tuple:
    return (reason, 0, False)


# Every Postmark bounce Type and record Anymail maps, and what it does ------------------------

POSTMARK_BOUNCES = {
    "HardBounce": stopped("bounced"),
    "Transient": SOFT,  # deferred
    "Unsubscribe": stopped("unsubscribed"),
    "Subscribe": CLEAN,
    "AutoResponder": CLEAN,  # an out-of-office: the mailbox works
    "AddressChange": CLEAN,
    "DnsError": SOFT,  # deferred
    "SpamNotification": stopped("complained"),
    "OpenRelayTest": SOFT,  # deferred
    "Unknown": CLEAN,
    "SoftBounce": SOFT,  # the full mailbox of the issue
    "VirusNotification": SOFT,  # bounced, reason "other"
    "ChallengeVerification": CLEAN,
    "BadEmailAddress": stopped("bounced"),  # rejected, "invalid"
    "SpamComplaint": stopped("complained"),
    "ManuallyDeactivated": SOFT,  # rejected, "blocked": a policy, not the address
    "Unconfirmed": CLEAN,  # rejected with no reason: our sender signature, not Alex
    "Blocked": SOFT,  # rejected, "blocked"
    "SMTPApiError": CLEAN,  # failed: ours
    "InboundError": CLEAN,
    "DMARCPolicy": SOFT,  # rejected, "blocked"
    "TemplateRenderingFailed": CLEAN,  # failed: ours
}


@pytest.mark.parametrize(("kind", "after"), POSTMARK_BOUNCES.items())
def test_each_postmark_bounce_type(owner, client, kind, after):
    response = post(client, "postmark", postmark_bounce(ALEX, kind=kind))

    assert response.status_code == 200
    assert mailbox(owner) == after


@pytest.mark.parametrize(
    ("payload", "after"),
    [
        (postmark_bounce(ALEX, "SpamComplaint", record="SpamComplaint"), stopped("complained")),
        (postmark_record(ALEX, "Open"), CLEAN),
        (postmark_record(ALEX, "Click"), CLEAN),
        (postmark_subscription_change(ALEX, True, "HardBounce"), stopped("bounced")),
        (postmark_subscription_change(ALEX, True, "SpamComplaint"), stopped("complained")),
        (postmark_subscription_change(ALEX, True, "ManualSuppression"), stopped("unsubscribed")),
        (postmark_subscription_change(ALEX, False, None), CLEAN),  # reactivated
        (postmark_delivery(ALEX, NUDGE_AT), CLEAN),
    ],
    ids=[
        "spam-complaint",
        "open",
        "click",
        "suppressed-hard-bounce",
        "suppressed-spam-complaint",
        "suppressed-manually",
        "reactivated",
        "delivery",
    ],
)
def test_each_other_postmark_record(owner, client, payload, after):
    assert post(client, "postmark", payload).status_code == 200

    assert mailbox(owner) == after


# Every Mailgun event, severity and reason Anymail maps ---------------------------------------

MAILGUN_EVENTS = {
    "delivered": ({}, CLEAN),
    "accepted": ({}, CLEAN),  # queued
    "opened": ({}, CLEAN),
    "clicked": ({"url": "https://example.com/"}, CLEAN),
    "hard-bounce": ({"severity": "permanent", "reason": "bounce"}, stopped("bounced")),
    "suppress-bounce": (
        {"event": "failed", "severity": "permanent", "reason": "suppress-bounce"},
        stopped("bounced"),
    ),
    "permanent-generic": ({"severity": "permanent", "reason": "generic"}, SOFT),  # "other"
    "gave-up-retrying": ({"severity": "permanent", "reason": "old"}, SOFT),  # "other"
    "temporary-generic": ({"severity": "temporary", "reason": "generic"}, SOFT),  # deferred
    "greylisted": ({"severity": "temporary", "reason": "greylisted"}, SOFT),  # deferred
    "rejected": ({"reject": {"reason": "Sandbox subdomains are for tests."}}, SOFT),
    "complained": ({}, stopped("complained")),
    "unsubscribed": ({}, stopped("unsubscribed")),
}


def mailgun_event_name(case: str) -> str:
    return "failed" if "severity" in MAILGUN_EVENTS[case][0] else case


@pytest.mark.parametrize("case", MAILGUN_EVENTS)
def test_each_mailgun_event(owner, client, case):
    fields, after = MAILGUN_EVENTS[case]
    fields = {key: value for key, value in fields.items() if key != "event"}

    response = post(client, "mailgun", mailgun_event(ALEX, mailgun_event_name(case), **fields))

    assert response.status_code == 200
    assert mailbox(owner) == after


def test_a_mailgun_event_without_its_signature_changes_nothing(owner, client):
    payload = mailgun_event(ALEX, "failed", severity="permanent", reason="bounce")
    payload["signature"]["signature"] = "0" * 64

    assert post(client, "mailgun", payload).status_code == 400
    assert mailbox(owner) == CLEAN


# SendGrid's events, and the other providers' own word on a bounce ------------------------------

SENDGRID_EVENTS = {
    "bounce": ({"event": "bounce", "type": "bounce"}, stopped("bounced")),
    "blocked": ({"event": "bounce", "type": "blocked"}, SOFT),  # the receiver blocked us
    "deferred": ({"event": "deferred", "attempt": "2"}, SOFT),
    "dropped-bounced-address": (
        {"event": "dropped", "reason": "Bounced Address"},
        stopped("bounced"),
    ),
    "dropped-invalid": ({"event": "dropped", "reason": "Invalid"}, stopped("bounced")),
    "dropped-unsubscribed": (
        {"event": "dropped", "reason": "Unsubscribed Address"},
        stopped("unsubscribed"),
    ),
    "dropped-expired": ({"event": "dropped", "reason": "Expired"}, SOFT),  # 72 h of retries
    "dropped-spam-reporting": ({"event": "dropped", "reason": "Spam Reporting Address"}, SOFT),
    "spamreport": ({"event": "spamreport"}, stopped("complained")),
    "unsubscribe": ({"event": "unsubscribe"}, stopped("unsubscribed")),
    "group_unsubscribe": (
        {"event": "group_unsubscribe", "asm_group_id": 1},
        stopped("unsubscribed"),
    ),
    "delivered": ({"event": "delivered", "response": "250 OK"}, CLEAN),
    "processed": ({"event": "processed"}, CLEAN),
    "open": ({"event": "open"}, CLEAN),
}


# Anymail still maps SendGrid's events, but warns that it no longer supports SendGrid.
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")
@pytest.mark.parametrize("case", SENDGRID_EVENTS)
def test_each_sendgrid_event(owner, client, case):
    fields, after = SENDGRID_EVENTS[case]

    response = post(client, "sendgrid", sendgrid_event(ALEX, **fields))

    assert response.status_code == 200
    assert mailbox(owner) == after


@pytest.mark.parametrize(
    ("esp_name", "esp_event", "signal"),
    [
        ("Amazon SES", {"bounce": {"bounceType": "Permanent"}}, bounces.Signal.HARD),
        ("Amazon SES", {"bounce": {"bounceType": "Transient"}}, bounces.Signal.SOFT),
        ("Amazon SES", {"bounce": {"bounceType": "Undetermined"}}, bounces.Signal.SOFT),
        ("Resend", {"data": {"bounce": {"type": "Permanent"}}}, bounces.Signal.HARD),
        ("Resend", {"data": {"bounce": {"type": "Transient"}}}, bounces.Signal.SOFT),
        (
            "Resend",
            {"data": {"bounce": {"message": "… a bounce message because the inbox was full."}}},
            bounces.Signal.SOFT,
        ),
        ("Brevo", {"event": "hard_bounce"}, bounces.Signal.HARD),
        ("Brevo", {"event": "soft_bounce"}, bounces.Signal.SOFT),
        ("Mandrill", {"event": "soft_bounce"}, bounces.Signal.SOFT),
        ("MailerSend", {"data": {"type": "soft_bounced"}}, bounces.Signal.SOFT),
        ("MailerSend", {"data": {"type": "hard_bounced"}}, bounces.Signal.HARD),
        ("Mailjet", {"event": "bounce", "hard_bounce": False}, bounces.Signal.SOFT),
        ("Mailjet", {"event": "bounce", "hard_bounce": True}, bounces.Signal.HARD),
        ("SparkPost", {"bounce_class": "22"}, bounces.Signal.SOFT),  # mailbox full
        ("SparkPost", {"bounce_class": "30"}, bounces.Signal.HARD),  # no RCPT
        ("Mailgun", {"event": "bounced", "code": "452"}, bounces.Signal.SOFT),  # legacy
        ("Mailgun", {"event": "bounced", "code": "550"}, bounces.Signal.HARD),
    ],
)
def test_a_bounce_the_provider_calls_temporary_is_soft(esp_name, esp_event, signal):
    """Anymail reports each of these as event "bounced", reason "bounced"."""
    event = AnymailTrackingEvent(
        event_type="bounced", reject_reason="bounced", recipient=ALEX, esp_event=esp_event
    )

    assert bounces.classify(event, esp_name) == signal


# The example: one full mailbox ------------------------------------------------------


def soft_bounce(provider: str, at: datetime) -> dict:
    if provider == "postmark":
        return postmark_bounce(ALEX, kind="SoftBounce", at=at)
    return mailgun_event(ALEX, "failed", at, severity="temporary", reason="generic")


def delivery(provider: str, at: datetime) -> dict:
    if provider == "postmark":
        return postmark_delivery(ALEX, at)
    return mailgun_event(ALEX, "delivered", at)


def dashboard(client) -> str:
    return unescape(client.get(reverse("outerloop:dashboard")).content.decode())


def nudges_on(time_machine, day: int, outbox) -> int:
    """Run the nudge tick at Alex's nudge time `day` days after NUDGE_AT; nudges sent."""
    before = len(outbox)
    time_machine.move_to(NUDGE_AT + timedelta(days=day), tick=False)
    nudge_tick()
    return len(outbox) - before


@pytest.mark.parametrize("provider", ["postmark", "mailgun"])
def test_one_full_mailbox_bounce_keeps_email_flowing(
    owner, owner_client, client, time_machine, outbox, provider
):
    post(client, provider, soft_bounce(provider, NUDGE_AT - timedelta(hours=20)))

    owner.refresh_from_db()
    assert owner.email_undeliverable_at is None
    assert nudges_on(time_machine, 0, outbox) == 1
    page = dashboard(owner_client)
    assert f"Our last email to {ALEX} bounced</strong> (since 9 Mar)" in page
    assert "We keep trying" in page


@pytest.mark.parametrize("provider", ["postmark", "mailgun"])
def test_soft_bounces_stop_email_after_three_in_a_row_over_three_days(
    owner, owner_client, client, time_machine, outbox, provider
):
    """A nudge a day bounces from a full mailbox: days 0, 1 and 2 are not enough (48 h),
    day 3's bounce (the fourth, 72 h after the first) stops the habit's emails."""
    for day in range(3):
        assert nudges_on(time_machine, day, outbox) == 1
        post(client, provider, soft_bounce(provider, NUDGE_AT + timedelta(days=day, minutes=1)))
    assert mailbox(owner) == ("", 3, True)

    assert nudges_on(time_machine, 3, outbox) == 1
    post(client, provider, soft_bounce(provider, NUDGE_AT + timedelta(days=3, minutes=1)))

    assert mailbox(owner) == ("soft_bounced", 4, False)
    assert nudges_on(time_machine, 4, outbox) == 0
    page = dashboard(owner_client)
    assert f"Email to {ALEX} keeps bouncing.</strong> 4 emails in a row since 10 Mar" in page
    assert PAUSED in page
    assert "We'll try again on 20 Mar, and once one gets through, email resumes" in page
    assert "It's fixed: email me again</button>" in page


@pytest.mark.parametrize("provider", ["postmark", "mailgun"])
def test_a_delivery_between_soft_bounces_starts_the_count_over(
    owner, client, time_machine, outbox, provider
):
    for day in (0, 1):
        post(client, provider, soft_bounce(provider, NUDGE_AT + timedelta(days=day)))
    post(client, provider, delivery(provider, NUDGE_AT + timedelta(days=2)))
    for day in (3, 4):
        post(client, provider, soft_bounce(provider, NUDGE_AT + timedelta(days=day)))

    assert mailbox(owner) == ("", 2, True)
    owner.refresh_from_db()
    assert owner.email_soft_bounced_since == NUDGE_AT + timedelta(days=3)
    assert owner.email_delivered_at == NUDGE_AT + timedelta(days=2)


def stop_by_soft_bounces(client, provider: str) -> None:
    for day in range(4):
        post(client, provider, soft_bounce(provider, NUDGE_AT + timedelta(days=day)))


@pytest.mark.parametrize("provider", ["postmark", "mailgun"])
def test_after_a_week_the_next_nudge_tries_again_and_a_delivery_resumes_email(
    owner, owner_client, client, time_machine, outbox, provider
):
    stop_by_soft_bounces(client, provider)  # stopped on day 3 at the nudge time
    assert [nudges_on(time_machine, day, outbox) for day in range(4, 10)] == [0] * 6

    assert nudges_on(time_machine, 10, outbox) == 1  # a week after the last bounce
    assert "The next email tries again" in dashboard(owner_client)

    post(client, provider, delivery(provider, NUDGE_AT + timedelta(days=10, minutes=2)))

    assert mailbox(owner) == CLEAN
    assert "bounc" not in dashboard(owner_client)
    assert nudges_on(time_machine, 11, outbox) == 1


@pytest.mark.parametrize("provider", ["postmark", "mailgun"])
def test_a_retry_that_bounces_again_waits_another_week(
    owner, client, time_machine, outbox, provider
):
    stop_by_soft_bounces(client, provider)
    assert nudges_on(time_machine, 10, outbox) == 1
    post(client, provider, soft_bounce(provider, NUDGE_AT + timedelta(days=10)))

    assert mailbox(owner) == ("soft_bounced", 5, False)
    assert [nudges_on(time_machine, day, outbox) for day in range(11, 17)] == [0] * 6
    assert nudges_on(time_machine, 17, outbox) == 1


def test_while_soft_bounces_hold_email_back_what_the_builder_asks_for_still_goes(owner, client):
    stop_by_soft_bounces(client, "postmark")
    owner.refresh_from_db()

    assert [kind for kind in EmailKind if owner.may_receive(kind)] == [
        EmailKind.PUBLISH,
        EmailKind.CONFIRM,
        EmailKind.PASSWORD_RESET,
        EmailKind.SIGNUP_ATTEMPT,
    ]


def test_a_hard_bounce_holds_back_everything(owner, client):
    post(client, "postmark", postmark_bounce(ALEX))
    owner.refresh_from_db()

    assert [kind for kind in EmailKind if owner.may_receive(kind)] == []


# Deliveries and hard stops -------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["postmark", "mailgun"])
def test_a_delivery_after_a_hard_bounce_resumes_email(
    owner, owner_client, client, time_machine, outbox, provider
):
    hard = (
        postmark_bounce(ALEX, at=NUDGE_AT)
        if provider == "postmark"
        else mailgun_event(ALEX, "failed", NUDGE_AT, severity="permanent", reason="bounce")
    )
    post(client, provider, hard)
    assert STOPPED in dashboard(owner_client)

    post(client, provider, delivery(provider, NUDGE_AT - timedelta(hours=1)))  # arrived late
    assert mailbox(owner) == stopped("bounced")

    post(client, provider, delivery(provider, NUDGE_AT + timedelta(hours=1)))
    assert mailbox(owner) == CLEAN
    assert STOPPED not in dashboard(owner_client)


def test_a_bounce_older_than_a_delivery_stops_nothing(owner, client):
    post(client, "postmark", postmark_delivery(ALEX, NUDGE_AT))
    post(client, "postmark", postmark_bounce(ALEX, at=NUDGE_AT - timedelta(minutes=5)))
    post(client, "postmark", postmark_bounce(ALEX, "SoftBounce", at=NUDGE_AT - timedelta(hours=1)))

    assert mailbox(owner) == CLEAN


@pytest.mark.parametrize(
    ("payload", "reason", "says"),
    [
        (
            postmark_bounce(ALEX, "SpamComplaint", "SpamComplaint", at=NUDGE_AT),
            "complained",
            "was marked as spam",
        ),
        (
            postmark_subscription_change(ALEX, True, "ManualSuppression"),
            "unsubscribed",
            "was unsubscribed at our mail provider",
        ),
    ],
    ids=["complaint", "unsubscribe"],
)
def test_a_delivery_never_undoes_a_complaint_or_an_unsubscribe(
    owner, owner_client, client, payload, reason, says
):
    post(client, "postmark", payload)
    post(client, "postmark", postmark_delivery(ALEX, NUDGE_AT + timedelta(days=1)))

    assert mailbox(owner) == stopped(reason)
    page = dashboard(owner_client)
    assert f"Email to {ALEX} {says}</strong> on 10 Mar" in page
    assert "If that was a mistake, tell us here" in page


def test_a_complaint_replaces_a_soft_bounce_stop_and_no_soft_bounce_replaces_it(owner, client):
    stop_by_soft_bounces(client, "postmark")
    post(client, "postmark", postmark_bounce(ALEX, "SpamComplaint", "SpamComplaint"))
    post(client, "postmark", postmark_bounce(ALEX, "SoftBounce", at=NUDGE_AT + timedelta(days=5)))

    owner.refresh_from_db()
    assert owner.email_undeliverable_reason == "complained"


def test_its_fixed_clears_the_soft_bounce_count(owner, owner_client, client):
    stop_by_soft_bounces(client, "postmark")

    owner_client.post(reverse("outerloop:email-resume"))

    assert mailbox(owner) == CLEAN
    owner.refresh_from_db()
    assert owner.email_soft_bounced_since is None


def test_a_delivery_clears_a_rejection_stored_by_the_old_code(owner, client):
    Builder.objects.filter(pk=owner.pk).update(
        email_undeliverable_at=NUDGE_AT, email_undeliverable_reason="rejected"
    )
    assert mailbox(owner) == stopped("rejected")

    post(client, "postmark", postmark_delivery(ALEX, NUDGE_AT + timedelta(days=1)))

    assert mailbox(owner) == CLEAN
