"""Every `next` a request carries goes through one helper: a path on this site, or a safe default.

The corpus is what a careless link, a hostile page or a broken client sends: bare words (which
Django's `redirect()` would take for view names), Unicode, bytes that aren't UTF-8, other
hosts in every spelling, script schemes, line breaks and absurd lengths.
"""

from urllib.parse import quote_from_bytes, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from common.redirects import next_url
from reactions.models import Reaction
from tests.conftest import PHONE_UA
from tests.factories import PASSWORD, ReactionFactory

# Each is refused: the view goes to its default instead (and never answers 500).
UNSAFE = [
    "abc",
    "people",
    "dashboard",
    "é",
    "ü/x",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "http://testserver@evil.example/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/people/\r\nSet-Cookie: x=1",
    "/people/\x00",
    "/" + "a" * 5000,
    "",
]
# Raw bytes in the form body, as a broken client sends them: not UTF-8 at all.
INVALID_UTF8 = [b"\xff\xfe", b"/people/\xc3\x28", b"\xe9"]
SAFE = ["/people/", "/habit/?week=2026-W10", "/shares/1/#reactions"]


def post_raw(client: Client, path: str, fields: dict[str, bytes]):
    body = "&".join(f"{name}={quote_from_bytes(value)}" for name, value in fields.items())
    return client.post(path, body, content_type="application/x-www-form-urlencoded")


# The helper itself ------------------------------------------------------------------------


@pytest.mark.parametrize("target", UNSAFE)
def test_next_url_refuses_anything_but_a_path_on_this_site(rf, target):
    request = rf.post("/x/", {"next": target})

    assert next_url(request, "/fallback/") == "/fallback/"


@pytest.mark.parametrize("target", SAFE)
def test_next_url_keeps_a_path_on_this_site(rf, target):
    assert next_url(rf.post("/x/", {"next": target}), "/fallback/") == target
    assert next_url(rf.get("/x/", {"next": target}), "/fallback/") == target


# Marking a reaction as counting (or not) --------------------------------------------------


@pytest.fixture
def reaction(share):
    return ReactionFactory(share=share, text="Found the wall in two taps.")


@pytest.mark.parametrize("target", UNSAFE)
def test_reaction_counts_with_a_bad_next_saves_and_goes_to_the_share(
    owner_client, reaction, target
):
    response = owner_client.post(
        reverse("reactions:reaction-counts", args=[reaction.pk]), {"counts": "0", "next": target}
    )

    assert response.status_code == 302
    assert response.url == reverse("reactions:share-detail", args=[reaction.share_id])
    assert Reaction.objects.get(pk=reaction.pk).counts is False


@pytest.mark.parametrize("raw", INVALID_UTF8)
def test_reaction_counts_with_a_next_that_is_not_utf8_goes_to_the_share(
    owner_client, reaction, raw
):
    response = post_raw(
        owner_client,
        reverse("reactions:reaction-counts", args=[reaction.pk]),
        {"counts": b"0", "next": raw},
    )

    assert response.status_code == 302
    assert response.url == reverse("reactions:share-detail", args=[reaction.share_id])
    assert Reaction.objects.get(pk=reaction.pk).counts is False


def test_reaction_counts_goes_back_to_the_page_it_came_from(owner_client, reaction):
    response = owner_client.post(
        reverse("reactions:reaction-counts", args=[reaction.pk]),
        {"counts": "0", "next": "/people/"},
    )

    assert response.url == "/people/"


# Logging in and out -----------------------------------------------------------------------


def log_in(client: Client, next_value):
    data = {"username": "alex@example.com", "password": PASSWORD, "next": next_value}
    return client.post(reverse("outerloop:login"), data)


@pytest.mark.parametrize("target", UNSAFE)
def test_login_with_a_bad_next_goes_to_the_dashboard(owner, target):
    response = log_in(Client(headers={"User-Agent": PHONE_UA}), target)

    assert response.status_code == 302
    assert response.url == reverse("outerloop:dashboard")


@pytest.mark.parametrize("raw", INVALID_UTF8)
def test_login_with_a_next_that_is_not_utf8_goes_to_the_dashboard(owner, raw):
    client = Client(headers={"User-Agent": PHONE_UA})
    response = post_raw(
        client,
        reverse("outerloop:login"),
        {"username": b"alex@example.com", "password": PASSWORD.encode(), "next": raw},
    )

    assert response.status_code == 302
    assert response.url == reverse("outerloop:dashboard")


def test_login_goes_on_to_a_safe_next(owner):
    response = log_in(Client(headers={"User-Agent": PHONE_UA}), "/people/")

    assert response.url == "/people/"


@pytest.mark.parametrize("target", UNSAFE)
def test_login_page_never_writes_a_bad_next_into_its_form(db, target):
    page = Client().get(reverse("outerloop:login"), {"next": target})

    assert page.status_code == 200
    assert 'name="next" value=""' in page.content.decode()


@pytest.mark.parametrize("target", UNSAFE)
def test_logout_with_a_bad_next_goes_to_the_login_page(owner_client, target):
    response = owner_client.post(reverse("outerloop:logout"), {"next": target})

    assert response.status_code == 302
    assert response.url == reverse("outerloop:login")
    assert "_auth_user_id" not in owner_client.session


@pytest.mark.parametrize("target", UNSAFE)
def test_admin_login_with_a_bad_next_stays_on_this_site(owner, target):
    """The admin's login is Django's own view: it checks `next` the same way (and keeps a
    relative one), so it never fails and never leaves the site."""
    owner.is_staff = True
    owner.save()
    response = Client().post(
        reverse("admin:login"),
        {"username": "alex@example.com", "password": PASSWORD, "next": target},
    )

    assert response.status_code == 302
    parts = urlsplit(response.url)
    assert (parts.scheme, parts.netloc) == ("", "")
    assert not response.url.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", ["/login/", "/login/?next=/", "/login/#x"])
def test_a_logged_in_builder_sent_back_to_the_login_page_lands_on_the_dashboard(
    owner_client, target
):
    """Django's LoginView refuses to redirect a logged-in user to itself with a 500."""
    response = owner_client.get(reverse("outerloop:login"), {"next": target})

    assert response.status_code == 302
    assert response.url == reverse("outerloop:dashboard")


def test_logging_out_with_next_back_to_the_logout_page_goes_to_the_login_page(owner_client):
    response = owner_client.post(reverse("outerloop:logout"), {"next": "/logout/"})

    assert response.status_code == 302
    assert response.url == reverse("outerloop:login")
