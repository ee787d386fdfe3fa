"""A link's opens and taps are people's: preview fetchers and clients that never loaded the
page record nothing, even on the Open button's /go/ link (issue 11, "Links tell the truth")."""

import pytest
from django.test import Client
from django.urls import reverse

from reactions.models import Visit, VisitKind
from tests.conftest import PHONE_UA, PREVIEW_URL


def page_url(share) -> str:
    return reverse("reactions:recipient-page", args=[share.token])


def go_url(share) -> str:
    return reverse("reactions:recipient-go", args=[share.token])


def visits(share) -> list[str]:
    return list(share.visits.order_by("at", "id").values_list("kind", flat=True))


@pytest.mark.parametrize("user_agent", ["Google-Chat-Preview", "Viber"])
def test_a_chat_apps_preview_fetcher_on_the_open_button_is_no_open_and_no_tap(share, user_agent):
    fetcher = Client(headers={"User-Agent": user_agent})

    fetcher.get(page_url(share))
    response = fetcher.get(go_url(share))

    assert (response.status_code, response["Location"]) == (302, PREVIEW_URL)
    assert not Visit.objects.exists()


def test_a_browser_that_never_loaded_the_page_records_nothing_on_the_open_button(sam, share):
    response = sam.get(go_url(share))

    assert (response.status_code, response["Location"]) == (302, PREVIEW_URL)
    assert not Visit.objects.exists()


def test_a_browser_without_javascript_that_loaded_the_page_opens_and_taps(sam, share):
    sam.get(page_url(share))
    sam.get(go_url(share))

    assert visits(share) == [VisitKind.OPEN, VisitKind.TAP]


def test_a_browser_without_cookies_that_loaded_the_page_opens_and_taps(share):
    """Issue 12 will let the page work without cookies: the cached page load (its hashed
    client and User-Agent) stands in for the cookie."""
    first = Client(headers={"User-Agent": PHONE_UA})
    first.get(page_url(share))
    no_cookies = Client(headers={"User-Agent": PHONE_UA})  # same address, nothing kept

    no_cookies.get(go_url(share))

    assert visits(share) == [VisitKind.OPEN, VisitKind.TAP]


def test_the_same_address_with_another_user_agent_is_another_browser(share):
    Client(headers={"User-Agent": PHONE_UA}).get(page_url(share))

    Client(headers={"User-Agent": PHONE_UA.replace("17_4", "17_5")}).get(go_url(share))

    assert not Visit.objects.exists()


def test_a_forged_page_cookie_is_no_page_load(sam, share):
    sam.cookies["ol_page"] = "1"

    sam.get(go_url(share))

    assert not Visit.objects.exists()


def test_a_page_load_holds_no_address(sam, share):
    sam.get(page_url(share))

    cookie = sam.cookies["ol_page"]
    assert cookie["path"] == page_url(share)
    assert "127.0.0.1" not in cookie.value
