"""Where to go next: one safe reading of every `next` a request carries.

A target is kept only when it is a path on this site ("/people/", never "people", "//host",
"javascript:…", or a string with spaces or control characters) and passes Django's
`url_has_allowed_host_and_scheme`; anything else gives the caller's default. The answer is
always an `HttpResponseRedirect` to a URL: `django.shortcuts.redirect()` would read a bare
word such as "people" as a view name and fail with `NoReverseMatch`.
"""

import unicodedata
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

# Longer than any page of ours; a longer target is someone's experiment.
MAX_LENGTH = 2000


def _is_site_path(request: HttpRequest, target: str) -> bool:
    if not target.startswith("/") or target.startswith("//") or len(target) > MAX_LENGTH:
        return False
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in target):
        return False
    # "\ufffd" is what bytes that aren't UTF-8 decode to: such a target was never ours.
    if "\ufffd" in target:
        return False
    return url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def next_url(request: HttpRequest, default: str, field: str = "next") -> str:
    """The request's `field` (POST first, then the query string) if it is a path on this
    site, else `default` (a URL or path the caller trusts)."""
    target = request.POST.get(field) or request.GET.get(field) or ""
    return target if _is_site_path(request, target) else default


def redirect_next(request: HttpRequest, default: str, field: str = "next") -> HttpResponseRedirect:
    """A 302 to `next_url(request, default, field)`."""
    return HttpResponseRedirect(next_url(request, default, field))


class SafeNextMixin:
    """For Django's LoginView and LogoutView: their `next` goes through `next_url` too, and a
    `next` back to the page itself (which Django refuses with a 500, "Redirection loop")
    gives the view's default instead."""

    request: HttpRequest
    redirect_field_name: str

    def get_redirect_url(self) -> str:
        target = next_url(self.request, "", self.redirect_field_name)
        return "" if urlsplit(target).path == self.request.path else target
