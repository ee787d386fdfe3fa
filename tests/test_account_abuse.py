"""The account pages under guessing, flooding and enumeration (the probe's cases).

- 100 wrong passwords for one account in under a minute: every answer was a 200, with no
  slowdown. Now the 11th try for an address (or the 31st from one client) is refused with a
  429 before any password is checked, for 15 minutes, on the builders' login and the admin's.
- 15 reset requests for one address sent 15 emails from inside the request. Now three an
  hour per address (ten per client), each through the outbox.
- Sign-up said "There's already an account with this email". Now sign-up and reset answer
  the same whether or not an address is in use; an address in use gets an email.
- Anyone could sign up with someone else's address and have Outer Loop mail them daily. Now
  an address gets nothing but its confirmation until its owner opens the link.
"""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from kombu.exceptions import OperationalError

from common import outbox as email_outbox
from common.builders import Builder, EmailKind
from common.mail import ClaimStatus, EmailClaim
from outerloop.emails import send_nudge, send_review
from outerloop.models import ApiToken
from outerloop.reminders import due_nudges
from outerloop.tasks import claims_sweep
from reactions.emails import send_reaction_notice
from reactions.models import Reaction
from sessions.models import BuildSession
from tests.conftest import NOW, PHONE_UA
from tests.factories import PASSWORD, BuilderFactory, ReactionFactory
from tests.outbox import send_now

WRONG = "not-the-password-1"


def browser(ip: str = "198.51.100.7") -> Client:
    return Client(headers={"User-Agent": PHONE_UA}, REMOTE_ADDR=ip)


def log_in(client: Client, email: str = "alex@example.com", password: str = WRONG):
    return client.post(reverse("outerloop:login"), {"username": email, "password": password})


def text_of(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what a request queues after its commit (Celery is eager: emails go out at once)."""

    def run(send, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return send(*args, **kwargs)

    return run


# Logging in ----------------------------------------------------------------------------------


def test_the_eleventh_try_for_an_address_is_refused_before_the_password_is_checked(owner):
    guesser = browser()
    answers = [log_in(guesser).status_code for _ in range(10)]

    refused = log_in(guesser, password=PASSWORD)  # even the right one, now

    assert answers == [200] * 10
    assert refused.status_code == 429
    assert "Too many failed attempts. Wait 15 minutes" in text_of(refused)
    assert "or reset your password" in text_of(refused)
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in guesser.session


def test_an_address_is_throttled_from_every_client(owner):
    for n in range(10):
        log_in(browser(f"198.51.100.{n}"))

    assert log_in(browser("203.0.113.9"), password=PASSWORD).status_code == 429


def test_one_client_guessing_many_addresses_is_throttled(owner):
    guesser = browser()
    for n in range(30):
        log_in(guesser, email=f"someone{n}@example.com")

    assert log_in(guesser, password=PASSWORD).status_code == 429
    assert log_in(browser("203.0.113.9"), password=PASSWORD).status_code == 302


def test_an_address_without_an_account_is_throttled_the_same(db):
    """Otherwise the refusal would tell who has an account."""
    guesser = browser()
    for _ in range(10):
        log_in(guesser, email="nobody@example.com")

    assert log_in(guesser, email="nobody@example.com").status_code == 429


def test_after_the_window_the_owner_logs_in_again(owner, time_machine):
    for _ in range(10):
        log_in(browser())
    assert log_in(browser(), password=PASSWORD).status_code == 429

    time_machine.move_to(NOW + timedelta(minutes=16), tick=False)

    assert log_in(browser(), password=PASSWORD).status_code == 302


def test_a_right_password_is_never_counted(owner):
    for _ in range(15):
        Client().post(reverse("outerloop:logout"))
        assert log_in(browser(), password=PASSWORD).status_code == 302


def test_a_locked_out_owner_resets_their_password_and_is_back_in(owner, commit, outbox):
    """Someone keeps the address locked out: a reset logs its owner in all the same, and the
    failures counted against the address start over."""
    for _ in range(10):
        log_in(browser("203.0.113.66"))
    owner_browser = browser()

    commit(owner_browser.post, reverse("outerloop:password-reset"), {"email": owner.email})
    [reset_email] = outbox
    form = owner_browser.get(path_of(re.search(r"https?://\S+", reset_email.body)[0]), follow=True)
    done = owner_browser.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-pass-phrase-88", "new_password2": "a-new-pass-phrase-88"},
        follow=True,
    )

    assert "You're logged in with your new password as alex@example.com." in text_of(done)
    assert int(owner_browser.session["_auth_user_id"]) == owner.pk
    phone = browser("198.51.100.99")
    assert log_in(phone, password="a-new-pass-phrase-88").status_code == 302


def test_a_password_reset_revokes_every_api_token(owner, commit, outbox):
    """Whoever signed up with the owner's address may have made a token: it stops working."""
    _, raw = ApiToken.issue(owner, "someone's laptop")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/today").status_code == 200
    client = browser()

    commit(client.post, reverse("outerloop:password-reset"), {"email": owner.email})
    form = client.get(path_of(re.search(r"https?://\S+", outbox[0].body)[0]), follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-pass-phrase-88", "new_password2": "a-new-pass-phrase-88"},
    )

    assert api.get("/api/v1/today").status_code == 401
    assert ApiToken.objects.get().revoked_at == NOW


def test_the_admin_login_is_throttled_too(owner):
    Builder.objects.filter(pk=owner.pk).update(is_staff=True, is_superuser=True)
    guesser = browser()
    data = {"username": owner.email, "password": WRONG, "next": "/admin/"}
    for _ in range(10):
        guesser.post(reverse("admin:login"), data)

    refused = guesser.post(reverse("admin:login"), {**data, "password": PASSWORD})

    assert refused.status_code == 200  # the admin's own view: the form again, with why
    assert "Too many failed attempts." in text_of(refused)
    assert "_auth_user_id" not in guesser.session


# Resetting a password ------------------------------------------------------------------------


def reset(client: Client, email: str):
    return client.post(reverse("outerloop:password-reset"), {"email": email})


def test_fifteen_resets_for_one_address_send_three_emails(owner, commit, outbox):
    answers = [commit(reset, browser(f"198.51.100.{n}"), owner.email) for n in range(15)]

    assert [answer.status_code for answer in answers] == [302] * 3 + [429] * 12
    assert "Too many reset requests. Wait 60 minutes" in text_of(answers[3])
    assert len(outbox) == 3
    assert EmailClaim.objects.filter(kind=EmailKind.PASSWORD_RESET).count() == 3


def test_an_unknown_address_gets_the_same_answers_and_no_email(db, commit, outbox):
    answers = [commit(reset, browser(), "nobody@example.com") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [302] * 3 + [429]
    assert answers[0]["Location"] == reverse("outerloop:password-reset-sent")
    assert outbox == []


def test_one_client_asking_for_many_addresses_is_throttled(owner, commit, outbox):
    guesser = browser()
    for n in range(10):
        commit(reset, guesser, f"someone{n}@example.com")

    assert commit(reset, guesser, owner.email).status_code == 429
    assert outbox == []


def test_a_reset_is_never_sent_inside_the_request(owner, monkeypatch, commit, outbox, time_machine):
    """The broker is down: the request still answers, and the email waits in the outbox
    until the sweep a minute later sends it, once."""

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(email_outbox.deliver_claimed, "apply_async", broker_down)
    response = commit(reset, browser(), owner.email)
    monkeypatch.undo()

    assert response.status_code == 302
    assert outbox == []
    claim = EmailClaim.objects.get(kind=EmailKind.PASSWORD_RESET)
    assert claim.status == ClaimStatus.PENDING

    time_machine.move_to(NOW + timedelta(minutes=1), tick=False)
    assert claims_sweep() == 1
    assert claims_sweep() == 0
    assert [message.subject for message in outbox] == ["Reset your Outer Loop password"]


def test_setting_a_password_from_the_reset_link_confirms_the_address(now, commit, outbox):
    jo = BuilderFactory(email="jo@example.com", email_confirmed_at=None)
    client = browser()
    commit(reset, client, jo.email)
    link = re.search(r"https?://\S+", outbox[0].body)[0]

    form = client.get(path_of(link), follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-pass-phrase-88", "new_password2": "a-new-pass-phrase-88"},
    )

    jo.refresh_from_db()
    assert jo.check_password("a-new-pass-phrase-88")
    assert jo.email_confirmed_at == NOW


# Signing up ----------------------------------------------------------------------------------


def sign_up(client: Client, email: str, name: str = "Jo"):
    password = "tangerine-lighthouse-93"
    data = {"name": name, "email": email, "password1": password, "password2": password}
    return client.post(reverse("outerloop:signup"), data)


def headers_of(response) -> dict[str, str]:
    """Every header but those carrying a per-response secret or the body's length."""
    varying = {"set-cookie", "content-security-policy", "content-length"}
    return {name.lower(): value for name, value in response.items() if name.lower() not in varying}


def page_without_tokens(client: Client, path: str) -> str:
    """The page with its per-response secrets (CSRF token, CSP nonce) blanked out."""
    page = text_of(client.get(path))
    page = re.sub(r'value="[^"]*"|nonce="[^"]*"', "", page)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", page)


def test_signing_up_with_a_used_address_answers_as_a_new_one_does(owner, commit, outbox):
    new, used = browser(), browser("203.0.113.9")

    first = commit(sign_up, new, "jo@example.com")
    second = commit(sign_up, used, "ALEX@example.com")

    assert (first.status_code, first["Location"]) == (second.status_code, second["Location"])
    assert sorted(first.cookies) == sorted(second.cookies) == ["csrftoken", "sessionid"]
    assert headers_of(first) == headers_of(second)
    assert headers_of(new.get(first["Location"])) == headers_of(used.get(second["Location"]))
    assert page_without_tokens(new, first["Location"]).replace(
        "jo@example.com", "EMAIL"
    ) == page_without_tokens(used, second["Location"]).replace("alex@example.com", "EMAIL")
    assert "already" not in text_of(used.get(second["Location"]))
    # No second account, nobody logged in as Alex; Alex hears about it by email.
    assert Builder.objects.filter(email__iexact="alex@example.com").count() == 1
    assert "_auth_user_id" not in used.session
    to_alex = [message for message in outbox if message.to == ["alex@example.com"]]
    assert [message.subject for message in to_alex] == ["You already have an Outer Loop account"]
    assert f"{reverse('outerloop:password-reset')}" in to_alex[0].body
    assert "List-Unsubscribe" not in to_alex[0].extra_headers


def test_repeated_sign_ups_with_a_used_address_email_its_owner_once_an_hour(
    owner, commit, outbox, time_machine
):
    for n in range(5):
        commit(sign_up, browser(f"198.51.100.{n}"), owner.email)
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    commit(sign_up, browser(), owner.email)

    assert [message.to for message in outbox] == [["alex@example.com"]] * 2


def test_signing_up_again_before_confirming_sends_the_confirmation_again(db, commit, outbox):
    """A form sent twice, or someone else signing up with an address nobody confirmed: it may
    get nothing but its confirmation, once an hour."""
    for n in range(3):
        commit(sign_up, browser(f"198.51.100.{n}"), "jo@example.com")

    assert [message.subject for message in outbox] == ["Confirm your email for Outer Loop"] * 2
    assert Builder.objects.filter(email="jo@example.com").count() == 1


def test_one_client_signing_up_again_and_again_is_throttled(db, commit):
    answers = [commit(sign_up, browser(), f"new{n}@example.com").status_code for n in range(11)]

    assert answers == [302] * 10 + [429]
    assert Builder.objects.count() == 10


# Confirming the address ----------------------------------------------------------------------


@pytest.fixture
def jo(now, db, commit, outbox):
    """Jo has just signed up; the confirmation email is the only one sent."""
    client = browser()
    commit(sign_up, client, "jo@example.com")
    [confirmation] = outbox
    assert confirmation.subject == "Confirm your email for Outer Loop"
    builder = Builder.objects.get(email="jo@example.com")
    builder.client = client
    builder.link = re.search(r"https?://\S+/email/confirm/\S+/", confirmation.body)[0]
    outbox.clear()
    return builder


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_an_unconfirmed_address_gets_no_nudge_review_or_notice(jo, outbox, commit):
    preview = BuildSession.objects.create(builder=jo, title="Map").add_preview(
        "https://map.example.dev/"
    )
    share = preview.shares.create(recipient=jo.recipients.create(name="Sam"), day=NOW.date())
    reaction = ReactionFactory(share=share)

    assert list(due_nudges(NOW + timedelta(hours=23))) == []
    assert not send_nudge(jo.pk, jo.local_day())
    assert not send_review(jo.pk, jo.local_day())
    assert not email_outbox.send(
        EmailClaim.objects.create(builder=jo, kind=EmailKind.PUBLISH, period="decision:1:x").pk
    )
    assert not send_reaction_notice(reaction.pk)
    assert Reaction.objects.get(pk=reaction.pk).notified_at is not None
    assert outbox == []


def test_the_dashboard_says_why_no_email_comes_until_the_address_is_confirmed(jo):
    page = text_of(jo.client.get(reverse("outerloop:dashboard")))

    assert "Confirm your email." in page
    assert "We sent a link to jo@example.com." in page
    assert "no nudges, weekly reviews or reaction notices" in page


def test_the_link_asks_first_then_confirms(jo):
    visitor = Client()  # the link works in any browser: the signed token is the capability
    asked = visitor.get(path_of(jo.link))

    assert "Is <strong>jo@example.com</strong> yours?" in text_of(asked)
    jo.refresh_from_db()
    assert jo.email_confirmed_at is None  # a mail scanner's GET confirms nothing

    done = visitor.post(path_of(jo.link), follow=True)

    assert done.redirect_chain == [(path_of(jo.link), 302)]  # a reload asks nothing
    assert "Confirmed" in text_of(done)
    jo.refresh_from_db()
    assert jo.email_confirmed_at == NOW
    assert "Confirm your email." not in text_of(jo.client.get(reverse("outerloop:dashboard")))


def test_once_confirmed_the_nudge_comes(jo, outbox):
    Client().post(path_of(jo.link))

    assert send_nudge(jo.pk, jo.local_day())
    assert [message.to for message in outbox] == [["jo@example.com"]]


@pytest.mark.parametrize("damage", ["cut", "tampered", "expired", "other address"])
def test_a_broken_link_confirms_nothing(jo, damage, time_machine):
    path = path_of(jo.link)
    if damage == "cut":
        path = path[:-12] + "/"
    elif damage == "tampered":
        path = path.replace(":", ":x", 1)
    elif damage == "expired":
        time_machine.move_to(NOW + timedelta(days=8), tick=False)
    else:
        Builder.objects.filter(pk=jo.pk).update(email="jo@elsewhere.example")

    response = Client().post(path)

    assert response.status_code == 400
    assert "That link doesn't work" in text_of(response)
    jo.refresh_from_db()
    assert jo.email_confirmed_at is None


def test_the_banner_sends_the_link_again_a_few_times_an_hour(jo, commit, outbox):
    again = reverse("outerloop:confirm-email-again")
    answers = [commit(jo.client.post, again, {"next": "/settings/"}, follow=True) for _ in range(4)]

    assert "Sent again to jo@example.com." in text_of(answers[0])
    assert answers[0].redirect_chain[-1][0] == "/settings/"
    assert "We've sent that link a few times already." in text_of(answers[3])
    assert [message.subject for message in outbox] == ["Confirm your email for Outer Loop"] * 3
    # Each new link works.
    Client().post(path_of(re.search(r"https?://\S+/email/confirm/\S+/", outbox[-1].body)[0]))
    jo.refresh_from_db()
    assert jo.email_confirmed_at is not None


def test_a_confirmation_is_not_sent_once_the_address_is_confirmed(jo, outbox):
    Builder.objects.filter(pk=jo.pk).update(email_confirmed_at=NOW)
    jo.refresh_from_db()

    assert not send_now(jo, EmailKind.CONFIRM, "confirm:late")
    assert outbox == []


def test_the_operator_made_at_the_terminal_is_confirmed(db):
    operator = Builder.objects.create_superuser("op@example.com", PASSWORD, name="Op")

    assert operator.email_confirmed_at is not None
    assert operator.may_receive(EmailKind.PUBLISH)


HABIT_EMAILS = [EmailKind.NUDGE, EmailKind.REVIEW, EmailKind.REACTION, EmailKind.FRESH_LINK]


@pytest.mark.parametrize("kind", HABIT_EMAILS)
def test_the_filter_and_the_rule_agree_on_who_gets_the_habits_email(db, kind):
    """BuilderQuerySet.mailable() is Builder.may_receive as a filter, for the habit's kinds."""
    cases = [
        BuilderFactory(),
        BuilderFactory(email_confirmed_at=None),
        BuilderFactory(email_paused=True),
        BuilderFactory(is_active=False),
        BuilderFactory(email_undeliverable_at=NOW),
    ]

    mailable = set(Builder.objects.mailable().values_list("pk", flat=True))

    assert mailable == {cases[0].pk}
    assert {builder.pk for builder in cases if builder.may_receive(kind)} == mailable


def test_the_delete_account_password_check_is_throttled_like_logging_in(owner, owner_client):
    """A stolen session must not make the delete form a way to guess the password."""
    url = reverse("outerloop:delete-account")
    answers = [owner_client.post(url, {"password": WRONG}) for _ in range(10)]

    refused = owner_client.post(url, {"password": PASSWORD})

    assert all("That isn't your password." in text_of(answer) for answer in answers)
    assert "Too many failed attempts." in text_of(refused)
    assert Builder.objects.filter(pk=owner.pk).exists()


def test_take_your_first_turn_goes_on_for_a_new_builder_and_asks_an_old_one_to_log_in(
    owner, commit
):
    """Someone who forgot they had an account is sent an email saying so, and the page's
    button asks them to log in rather than dropping them on the landing page."""
    new, used = browser(), browser("203.0.113.9")
    for client, email in ((new, "jo@example.com"), (used, owner.email)):
        sent = client.get(commit(sign_up, client, email)["Location"])
        button = re.search(r'href="([^"]+)">Take your first turn', text_of(sent))[1]
        client.landed = client.get(button, follow=True)

    assert "Today's turn" in text_of(new.landed)
    assert "<h1>Log in</h1>" in text_of(used.landed)


def test_the_confirmation_link_does_not_carry_the_address(jo):
    """Links end up in access logs and browser histories."""
    token = path_of(jo.link).split("/")[-2]

    assert "jo@example.com" not in signing.b64_decode(token.split(":")[0].encode()).decode()


def test_a_retry_no_longer_wanted_when_its_turn_comes_is_skipped_for_good(jo):
    """Confirmed meanwhile: the confirmation waiting for a retry is settled, not swept hourly."""
    claim = EmailClaim.objects.create(
        builder=jo, kind=EmailKind.CONFIRM, period="confirm:retry", status=ClaimStatus.RETRY
    )
    Builder.objects.filter(pk=jo.pk).update(email_confirmed_at=NOW)

    assert not email_outbox.send(claim.pk)

    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SKIPPED
