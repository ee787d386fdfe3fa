"""Sign up, log in, log out, reset a password, edit settings: the builder's account."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.core import mail
from django.urls import reverse

from common.builders import Builder
from outerloop.account_views import account_settings
from tests.conftest import NOW, SETTINGS_DEFAULTS
from tests.factories import PASSWORD

NEW_PASSWORD = "a-brand-new-pass-phrase-77"


def text_of(response) -> str:
    return unescape(response.content.decode())


def signup(client, **overrides):
    data = {
        "name": "Jo",
        "email": "Jo@Example.com",
        "password1": "tangerine-lighthouse-93",
        "password2": "tangerine-lighthouse-93",
        "time_zone": "Asia/Tokyo",
        **overrides,
    }
    return client.post(reverse("outerloop:signup"), data)


@pytest.mark.django_db
def test_signup_creates_a_builder_logged_in_by_email_in_the_browser_time_zone(client, outbox):
    response = signup(client)

    assert response.status_code == 302
    assert response.url == reverse("outerloop:signup-sent")
    builder = Builder.objects.get()
    assert builder.email == "jo@example.com"
    assert builder.name == "Jo"
    assert builder.time_zone == "Asia/Tokyo"
    assert builder.day_start_hour == 0
    assert builder.email_confirmed_at is None
    sent = client.get(response.url)
    assert "We sent a link to <strong>jo@example.com</strong>." in text_of(sent)
    dashboard = client.get(reverse("outerloop:dashboard"))
    assert "Today's turn" in text_of(dashboard)
    assert "Confirm your email." in text_of(dashboard)


@pytest.mark.django_db
@pytest.mark.parametrize("browser_zone", ["Mars/Olympus_Mons", "", "../../etc/passwd"])
def test_signup_with_an_unknown_browser_zone_falls_back_to_utc(client, browser_zone):
    signup(client, time_zone=browser_zone)

    assert Builder.objects.get().time_zone == "UTC"


@pytest.mark.django_db
def test_signup_with_mismatched_passwords_keeps_the_name_and_email(client):
    response = signup(client, password2="something-else-entirely-5")

    assert response.status_code == 200
    assert "The two password fields didn\u2019t match." in text_of(response)
    assert 'value="Jo@Example.com"' in response.content.decode()
    assert not Builder.objects.exists()


def test_login_is_by_email_in_any_letter_case(client, owner):
    response = client.post(
        reverse("outerloop:login"), {"username": "Alex@Example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == reverse("outerloop:dashboard")
    assert int(client.session["_auth_user_id"]) == owner.pk


def test_login_with_a_wrong_password_says_so(client, owner):
    response = client.post(
        reverse("outerloop:login"), {"username": "alex@example.com", "password": "nope-nope"}
    )

    assert response.status_code == 200
    assert "Please enter a correct email and password." in text_of(response)
    assert "_auth_user_id" not in client.session


def test_logout_takes_a_post_and_ends_the_session(owner_client):
    assert owner_client.get(reverse("outerloop:logout")).status_code == 405
    assert "_auth_user_id" in owner_client.session

    response = owner_client.post(reverse("outerloop:logout"))

    assert response.status_code == 302
    assert response.url == reverse("outerloop:login")
    landing = owner_client.get(reverse("outerloop:dashboard"))
    assert "Start your streak" in text_of(landing)
    assert "Today's turn" not in text_of(landing)


def test_password_reset_mails_a_link_on_the_public_origin_that_sets_a_new_password(
    client, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("outerloop:password-reset"), {"email": "ALEX@example.com"})

    assert response.url == reverse("outerloop:password-reset-sent")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alex@example.com"]
    assert message.subject == "Reset your Outer Loop password"
    links = re.findall(r"https?://\S+", message.body)
    assert len(links) == 1
    assert links[0].startswith(f"{settings.OUTERLOOP_BASE_URL}/password-reset/")
    html_body, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{links[0]}"' in html_body

    form_page = client.get(links[0].removeprefix(settings.OUTERLOOP_BASE_URL), follow=True)
    assert "Choose a new password" in text_of(form_page)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.url == reverse("outerloop:password-reset-complete")
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    used_again = client.get(links[0].removeprefix(settings.OUTERLOOP_BASE_URL), follow=True)
    assert "That link has been used or has expired" in text_of(used_again)


@pytest.mark.django_db
def test_password_reset_for_an_unknown_email_says_the_same_and_sends_nothing(client):
    response = client.post(
        reverse("outerloop:password-reset"), {"email": "nobody@example.com"}, follow=True
    )

    assert "If an account uses that address, a reset link is on its way." in text_of(response)
    assert mail.outbox == []


def test_settings_page_edits_name_time_zone_and_day_start_hour(owner_client, owner):
    page = owner_client.get(reverse("outerloop:settings"))
    assert 'value="Alex"' in page.content.decode()

    response = owner_client.post(
        reverse("outerloop:settings"),
        {
            **SETTINGS_DEFAULTS,
            "name": "Alexandra",
            "time_zone": "America/Sao_Paulo",
            "day_start_hour": "4",
            "rest_weekdays": ["5", "6"],
            "nudge_time": "08:30",
            "review_weekday": "4",
            "review_time": "17:00",
            "notices_enabled": "",
        },
        follow=True,
    )

    assert "Settings saved." in text_of(response)
    owner.refresh_from_db()
    assert (owner.name, owner.time_zone, owner.day_start_hour) == (
        "Alexandra",
        "America/Sao_Paulo",
        4,
    )
    assert owner.rest_weekdays == [5, 6]
    assert (str(owner.nudge_time), owner.review_weekday, str(owner.review_time)) == (
        "08:30:00",
        4,
        "17:00:00",
    )
    assert (owner.nudges_enabled, owner.reviews_enabled, owner.notices_enabled) == (
        True,
        True,
        False,
    )


def test_settings_refuse_seven_rest_days(owner_client, owner):
    data = {**SETTINGS_DEFAULTS, "rest_weekdays": [str(day) for day in range(7)]}

    response = owner_client.post(reverse("outerloop:settings"), data)

    assert "Keep at least one day that counts." in response.content.decode()
    owner.refresh_from_db()
    assert owner.rest_weekdays == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Europe/Atlantis"),
        ("day_start_hour", "7"),
        ("name", ""),
        ("nudge_time", "25:00"),
        ("review_weekday", "9"),
    ],
)
def test_settings_refuses_a_bad_value_and_changes_nothing(owner_client, owner, field, value):
    data = {**SETTINGS_DEFAULTS, field: value}

    response = owner_client.post(reverse("outerloop:settings"), data)

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    owner.refresh_from_db()
    assert (owner.name, owner.time_zone, owner.day_start_hour) == ("Alex", "Europe/Berlin", 0)


@pytest.mark.django_db
def test_settings_need_a_logged_in_builder(client):
    response = client.get(reverse("outerloop:settings"))

    assert response.status_code == 302
    assert response.url == f"{reverse('outerloop:login')}?next={reverse('outerloop:settings')}"


def test_saving_settings_keeps_a_bounce_stop_that_arrived_meanwhile(owner, rf):
    """The page loaded Alex's row; the provider's hard bounce landed before the save."""
    stale = Builder.objects.get(pk=owner.pk)
    Builder.objects.filter(pk=owner.pk).update(
        email_undeliverable_at=NOW, email_undeliverable_reason="bounced"
    )
    request = rf.post(reverse("outerloop:settings"), {**SETTINGS_DEFAULTS, "name": "Alexa"})
    request.user, request.session = stale, SessionStore()
    request._messages = FallbackStorage(request)

    assert account_settings(request).status_code == 302

    owner.refresh_from_db()
    assert (owner.name, owner.email_undeliverable_at) == ("Alexa", NOW)
