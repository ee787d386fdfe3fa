"""The device class of a recipient's open, tap and reaction: an iPad whose Safari sends a
Mac's User-Agent is a tablet once the page's script says it has touch points."""

import pytest
from django.test import Client
from django.urls import reverse

from reactions.models import DeviceClass, Reaction, Visit, VisitKind
from tests.test_agents import ANDROID_TABLET_AS_A_PC, IPAD_AS_A_MAC


def url(name: str, share) -> str:
    return reverse(f"reactions:{name}", args=[share.token])


def devices() -> dict[str, str]:
    found = {visit.kind: visit.device_class for visit in Visit.objects.all()}
    for reaction in Reaction.objects.all():
        found["reaction"] = reaction.device_class
    return found


def opens_taps_and_reacts(browser: Client, share, touch: str) -> None:
    """The page, its confirm request (with the script's touch points), Open, then a reaction
    posted as a plain form (no script adds the touch points to it)."""
    browser.get(url("recipient-page", share))
    browser.post(url("recipient-seen", share), {"touch": touch})
    browser.get(url("recipient-go", share))
    browser.post(url("recipient-react", share), {"text": "Nice on the big screen."})


@pytest.mark.parametrize(
    ("touch", "device"), [("5", DeviceClass.TABLET), ("0", DeviceClass.DESKTOP)]
)
def test_an_ipad_is_a_tablet_and_a_mac_a_computer_for_the_open_tap_and_reaction(
    share, touch, device
):
    opens_taps_and_reacts(Client(headers={"User-Agent": IPAD_AS_A_MAC}), share, touch)

    assert devices() == {VisitKind.OPEN: device, VisitKind.TAP: device, "reaction": device}


def test_an_ipad_that_keeps_no_cookies_is_still_a_tablet(share):
    """Its confirm request's touch points are kept for its hashed client and User-Agent."""
    ipad = Client(headers={"User-Agent": IPAD_AS_A_MAC})
    ipad.get(url("recipient-page", share))
    ipad.post(url("recipient-seen", share), {"touch": "5"})
    ipad.cookies.clear()

    ipad.post(url("recipient-react", share), {"text": "Nice."})

    assert Reaction.objects.get().device_class == DeviceClass.TABLET


def test_an_ipad_whose_script_never_ran_is_counted_as_its_user_agent_says(share):
    ipad = Client(headers={"User-Agent": IPAD_AS_A_MAC})
    ipad.get(url("recipient-page", share))
    ipad.get(url("recipient-go", share))

    assert devices() == {VisitKind.OPEN: DeviceClass.DESKTOP, VisitKind.TAP: DeviceClass.DESKTOP}


def test_nonsense_touch_points_are_ignored(share):
    ipad = Client(headers={"User-Agent": IPAD_AS_A_MAC})
    ipad.get(url("recipient-page", share))
    ipad.post(url("recipient-seen", share), {"touch": "9999999"})

    assert Visit.objects.get().device_class == DeviceClass.DESKTOP
    assert "ol_touch" not in ipad.cookies


def test_client_hints_make_an_android_tablet_in_desktop_mode_a_tablet(share):
    tablet = Client(
        headers={
            "User-Agent": ANDROID_TABLET_AS_A_PC,
            "Sec-CH-UA-Mobile": "?0",
            "Sec-CH-UA-Platform": '"Android"',
        }
    )
    tablet.get(url("recipient-page", share))
    tablet.post(url("recipient-seen", share))

    assert Visit.objects.get().device_class == DeviceClass.TABLET
