from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect


class BuilderTimeZoneMiddleware:
    """Show times in the logged-in builder's own zone; everything is stored in UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        use_builders_zone(request)
        return self.get_response(request)


def use_builders_zone(request: HttpRequest) -> None:
    """Show this request's times in its builder's zone (UTC for anyone else)."""
    if request.user.is_authenticated:
        timezone.activate(request.user.timing.zone)
    else:
        timezone.deactivate()


class PrivatePagesMiddleware:
    """What a logged-in builder is shown is theirs alone, and never kept: every answer to
    them (pages, API) gets Django's `never_cache` headers (`private, no-store`, as the admin
    sends), so after logging out, Back can't bring the dashboard up from the browser's cache.
    An answer that set its own Cache-Control keeps it (the live polls revalidate their ETag
    with `private, no-cache`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class HtmxLoginRedirectMiddleware:
    """A builder page left open after its builder logged out (in another tab, or the session
    ran out) keeps polling. The answer to that htmx request would be the login redirect,
    which htmx follows and swaps the login form into a card. Instead it tells htmx to load
    the login page whole (HX-Redirect). Needs `request.htmx` (django-htmx's middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and response["Location"].split("?", 1)[0] == resolve_url(settings.LOGIN_URL)
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response
