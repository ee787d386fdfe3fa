"""Logging a build session and adding, validating, expiring and renewing its preview."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse

from sessions.models import BuildSession, Preview
from tests.conftest import NOW, PREVIEW_URL


def local_only(port: int) -> str:
    """What a builder reads when they paste a loopback URL with this port."""
    return (
        "That address only opens on your own computer, never on the other person's device. "
        "If they're beside you, use your computer's Wi-Fi address instead (like "
        f"http://192.168.1.20:{port}, with your dev server started with --host) and show them "
        f"the QR code. Anywhere else, run a tunnel (cloudflared tunnel --url "
        f"http://localhost:{port} or ngrok http {port}) and paste the URL it prints, or paste "
        "your preview deployment's URL."
    )


NOT_WEB = "Paste the preview's web address, starting with https:// (or http://)."
GARBLED = "That doesn't look like a web address. Check it and paste it again."
WHITESPACE = "A URL can't contain spaces or control characters."
CREDENTIALS = (
    "Leave the user name and password out of the URL: the person you send it to would see them."
)
LONG_HOST = "https://example.com/"


def url_errors(response) -> list[str]:
    """The error messages shown under the preview URL field, as the user reads them."""
    block = re.search(
        r'<ul class="errorlist" id="id_url_error">(.*?)</ul>', response.content.decode()
    )
    return [unescape(item) for item in re.findall(r"<li>(.*?)</li>", block[1])] if block else []


def add_preview(client, session, url: str):
    return client.post(reverse("sessions:preview-add", args=[session.pk]), {"url": url})


def test_logging_a_session_opens_its_page(owner_client, owner):
    response = owner_client.post(
        reverse("sessions:session-list"),
        {"title": "Recipe box", "notes": "Asked for a pantry view"},
        follow=True,
    )

    session = BuildSession.objects.get(builder=owner)
    assert (session.title, session.notes) == ("Recipe box", "Asked for a pantry view")
    assert response.redirect_chain[-1][0] == reverse("sessions:session-detail", args=[session.pk])
    page = unescape(response.content.decode())
    assert "<h1><bdi>Recipe box</bdi></h1>" in page
    assert "Asked for a pantry view" in page
    assert "No preview yet." in page


def test_a_session_needs_a_title(owner_client, owner):
    response = owner_client.post(reverse("sessions:session-list"), {"title": "  ", "notes": "x"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not BuildSession.objects.exists()


def test_the_session_list_shows_only_my_sessions(owner_client, session, outsider):
    BuildSession.objects.create(builder=outsider, title="Riley's secret project")

    page = owner_client.get(reverse("sessions:session-list")).content.decode()

    assert "Crag finder" in page
    assert "secret project" not in page


def test_adding_a_preview_keeps_it_live_for_an_hour(owner_client, session):
    response = add_preview(owner_client, session, "https://habit.example.dev/v2")

    assert response.status_code == 302
    preview = Preview.objects.get(session=session)
    assert preview.url == "https://habit.example.dev/v2"
    assert preview.created_at == NOW
    assert preview.expires_at == NOW + timedelta(hours=1)
    page = owner_client.get(response.url).content.decode()
    assert "https://habit.example.dev/v2" in page
    # 13:00 in Berlin now, so live until 14:00 Berlin time.
    assert "Live until 14:00" in page
    assert "Get a link for this person" in page


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://habit.example.dev/", "https://habit.example.dev/"),
        ("http://habit.example.dev:8080/a?b=c#d", "http://habit.example.dev:8080/a?b=c#d"),
        ("HTTPS://Habit.Example.dev/Path", "HTTPS://Habit.Example.dev/Path"),
        ("  https://habit.example.dev/padded  ", "https://habit.example.dev/padded"),
        ("myapp.vercel.app/demo", "https://myapp.vercel.app/demo"),
        ("myapp.vercel.app", "https://myapp.vercel.app"),
        ("preview-7.example.dev:3000/x", "https://preview-7.example.dev:3000/x"),
        (LONG_HOST + "a" * (2048 - len(LONG_HOST)), LONG_HOST + "a" * (2048 - len(LONG_HOST))),
    ],
)
def test_preview_urls_that_are_accepted(owner_client, session, typed, stored):
    response = add_preview(owner_client, session, typed)

    assert response.status_code == 302, url_errors(response)
    assert Preview.objects.get(session=session).url == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("javascript:alert(document.cookie)", NOT_WEB),
        ("JavaScript://%0aalert(1)", NOT_WEB),
        ("data:text/html,<script>alert(1)</script>", NOT_WEB),
        ("file:///etc/passwd", NOT_WEB),
        ("ftp://files.example.com/build.zip", NOT_WEB),
        ("//habit.example.dev/no-scheme", NOT_WEB),
        ("garbage", NOT_WEB),
        ("https://", GARBLED),
        ("https://habit..example.dev/", GARBLED),
        ("http://-bad-.example.dev/", GARBLED),
        ("https://alex:hunter2@habit.example.dev/", CREDENTIALS),
        ("https://alex@habit.example.dev/", CREDENTIALS),
        ("https://habit.example.dev/a b", WHITESPACE),
        ("https://habit.example.dev/a\tb", WHITESPACE),
        ("https://habit.example.dev/\x07", WHITESPACE),
        ("https://habit.example.dev/\x7f", WHITESPACE),
        ("not a url at all", WHITESPACE),
        ("http://localhost:3000/", local_only(3000)),
        ("http://app.localhost/", local_only(80)),
        ("http://127.0.0.1:8000/", local_only(8000)),
        ("http://[::1]:5173/", local_only(5173)),
        ("http://0.0.0.0:8000/", local_only(8000)),
        (
            LONG_HOST + "a" * (2049 - len(LONG_HOST)),
            "That URL is 2,049 characters long; the limit is 2,048.",
        ),
        (
            LONG_HOST + "a" * (5000 - len(LONG_HOST)),
            "That URL is 5,000 characters long; the limit is 2,048.",
        ),
    ],
)
def test_preview_urls_that_are_refused_say_why(owner_client, session, typed, message):
    response = add_preview(owner_client, session, typed)

    assert response.status_code == 400
    assert url_errors(response) == [message]
    assert not Preview.objects.exists()


def test_a_refused_preview_url_is_a_clear_error_not_a_blank_form(owner_client, session):
    response = add_preview(owner_client, session, "")

    assert response.status_code == 400
    assert url_errors(response) == ["Paste the preview's URL."]


def test_preview_lifetime_comes_from_the_setting(owner_client, session, settings):
    settings.OUTERLOOP_PREVIEW_TTL = 600

    add_preview(owner_client, session, "https://habit.example.dev/")

    assert Preview.objects.get().expires_at == NOW + timedelta(minutes=10)


def test_an_expired_preview_offers_renewal_instead_of_sharing(owner_client, preview, time_machine):
    time_machine.move_to(NOW + timedelta(hours=3), tick=False)

    page = owner_client.get(reverse("sessions:session-detail", args=[preview.session_id]))

    content = page.content.decode()
    assert "Expired 2\xa0hours ago." in content
    assert "Renew as a fresh preview" in content
    assert "Get a link for this person" not in content


def test_renewing_makes_a_fresh_preview_of_the_same_url(
    owner_client, preview, time_machine, settings
):
    settings.OUTERLOOP_PREVIEW_TTL = 1800
    later = NOW + timedelta(hours=5)
    time_machine.move_to(later, tick=False)

    response = owner_client.post(reverse("sessions:preview-renew", args=[preview.pk]), follow=True)

    fresh = Preview.objects.exclude(pk=preview.pk).get()
    assert (fresh.session_id, fresh.url) == (preview.session_id, PREVIEW_URL)
    assert fresh.expires_at == later + timedelta(minutes=30)
    assert not fresh.is_expired
    preview.refresh_from_db()
    assert preview.is_expired
    # 17:00 UTC is 18:00 in Berlin; half an hour later it stops.
    assert "Fresh preview, live until 18:30. Send it to one person." in unescape(
        response.content.decode()
    )
