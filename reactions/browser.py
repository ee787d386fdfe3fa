"""What one recipient's browser told us about itself, remembered for its later requests.

The page's script reports `navigator.maxTouchPoints` with its confirm request (the field
`touch`); Chromium adds the `Sec-CH-UA-Mobile` and `Sec-CH-UA-Platform` client hints to every
request. A later request from the same browser (a tap on Open is a plain link, a reaction
form may be posted without the script) uses the remembered touch points: a signed cookie on
the share's pages, or, for a browser that keeps no cookies, the cache under its hashed client
and User-Agent (never a raw address).

What the browser said (its reactions on one share) is remembered in a signed cookie only:
the cache's hashed client and User-Agent would take two phones of one model on one Wi-Fi for
one browser and show one person's words to the other. A browser without cookies sees the
empty form again.
"""

import hashlib

from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from common import limits
from reactions.agents import BrowserHints, device_class

TOUCH_FIELD = "touch"
TOUCH_COOKIE = "ol_touch"
TOUCH_SALT = "outerloop.recipient.touch"
COOKIE_MAX_AGE = 365 * 24 * 3600
TOUCH_CACHE_SECONDS = 24 * 3600  # the hashed client changes with each UTC day anyway
MAX_TOUCH_POINTS = 256  # more than any screen reports; anything above is not a browser's
SAID_COOKIE = "ol_said"
SAID_SALT = "outerloop.recipient.said"
SAID_KEPT = 20  # the words a browser sent on one link, as far back as its page shows them


def browser_key(request: HttpRequest) -> str:
    """One browser for a day: the hashed client (`limits.client_id`) and a hash of its
    User-Agent, e.g. "3f1c…:9a0b1c2d3e4f". Holds no address."""
    agent = hashlib.sha256(request.headers.get("User-Agent", "").encode()).hexdigest()[:12]
    return f"{limits.client_id(request)}:{agent}"


def _touch_points(value: object) -> int | None:
    try:
        points = int(str(value))
    except ValueError:
        return None
    return points if 0 <= points <= MAX_TOUCH_POINTS else None


def posted_touch_points(request: HttpRequest) -> int | None:
    """The `touch` field of a POST (`navigator.maxTouchPoints`, 0 to 256), else None."""
    if request.method != "POST":
        return None
    return _touch_points(request.POST.get(TOUCH_FIELD, ""))


def _remembered_touch_points(request: HttpRequest) -> int | None:
    try:
        return _touch_points(request.get_signed_cookie(TOUCH_COOKIE, salt=TOUCH_SALT))
    except (KeyError, signing.BadSignature):
        pass
    try:
        return _touch_points(cache.get(f"touch:{browser_key(request)}", ""))
    except Exception:  # no cache: the browser's own word or its User-Agent decides
        return None


def hints(request: HttpRequest) -> BrowserHints:
    """The request's `BrowserHints`: touch points posted now or remembered, and the client
    hints it carries (`Sec-CH-UA-Mobile: ?1` is mobile; `Sec-CH-UA-Platform: "macOS"`)."""
    touch = posted_touch_points(request)
    if touch is None:
        touch = _remembered_touch_points(request)
    mobile_hint = request.headers.get("Sec-CH-UA-Mobile", "").strip()
    mobile = {"?1": True, "?0": False}.get(mobile_hint)
    platform = request.headers.get("Sec-CH-UA-Platform", "").strip().strip('"')[:32]
    return BrowserHints(touch_points=touch, mobile=mobile, platform=platform)


def device_of(request: HttpRequest) -> str:
    """Phone, tablet or desktop for this request's browser (`agents.device_class`)."""
    return device_class(request.headers.get("User-Agent", ""), hints(request))


def set_share_cookie(
    request: HttpRequest, response: HttpResponse, path: str, name: str, value: str, salt: str
) -> None:
    """A signed cookie for one share's pages (`path`): a year long, never read by scripts,
    sent on same-site requests and top-level links, secure on HTTPS."""
    response.set_signed_cookie(
        name,
        value,
        salt=salt,
        max_age=COOKIE_MAX_AGE,
        path=path,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def said_ids(request: HttpRequest) -> list[int]:
    """The ids of the reactions this browser sent from the share's pages, oldest first (at
    most SAID_KEPT), from the signed cookie `remember_reaction` sets; [] without it. The
    caller keeps only the share's own reactions among them."""
    try:
        value = request.get_signed_cookie(SAID_COOKIE, salt=SAID_SALT)
    except (KeyError, signing.BadSignature):
        return []
    return [int(part) for part in value.split(".") if part.isdecimal()][-SAID_KEPT:]


def remember_reaction(
    request: HttpRequest, response: HttpResponse, path: str, reaction_id: int
) -> None:
    """Add `reaction_id` to what this browser said on the share's pages (`path`), so they
    show it again ("You said: …"): a signed cookie of the newest SAID_KEPT ids."""
    said = [pk for pk in said_ids(request) if pk != reaction_id][-(SAID_KEPT - 1) :]
    value = ".".join(str(pk) for pk in [*said, reaction_id])
    set_share_cookie(request, response, path, SAID_COOKIE, value, SAID_SALT)


def remember_touch_points(request: HttpRequest, response: HttpResponse, path: str) -> None:
    """Keep the touch points this POST reported for the browser's later requests under
    `path` (the share's pages): a signed cookie, and the cache for cookie-less browsers."""
    touch = posted_touch_points(request)
    if touch is None:
        return
    set_share_cookie(request, response, path, TOUCH_COOKIE, str(touch), TOUCH_SALT)
    try:
        cache.set(f"touch:{browser_key(request)}", touch, timeout=TOUCH_CACHE_SECONDS)
    except Exception:  # no cache: the cookie alone remembers
        return
