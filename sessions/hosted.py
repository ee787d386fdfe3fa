"""Where a hosted preview lives: its own origin, `<label>.<OUTERLOOP_PREVIEW_DOMAIN>`.

A build folder the builder uploads is served at an origin of its own, never the app's, so no
app cookie reaches it and one preview can't read another's storage (DESIGN.md, "Hosted
previews"). Each hosted `Preview` has a random DNS label (`new_host_label`: 128 bits, so a
preview can't be found by counting), and a renewal gets a new one: a new origin.

OUTERLOOP_PREVIEW_DOMAIN is a host with an optional port, e.g. "preview.example.net" or, by
default for `make run`, "preview.localhost:8000" (browsers resolve every `*.localhost` name to
the machine itself, RFC 6761 §6.3). The scheme is the app's (OUTERLOOP_BASE_URL's).
"""

import base64
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port

LABEL_BYTES = 16  # 128 random bits: 26 base32 letters and digits, one DNS label


def new_host_label() -> str:
    """A fresh random DNS label for a hosted preview: 26 characters of [a-z2-7]."""
    raw = base64.b32encode(secrets.token_bytes(LABEL_BYTES)).decode("ascii")
    return raw.rstrip("=").lower()


def hosted_url(label: str) -> str:
    """The hosted preview's own origin and root path, e.g. "https://<label>.preview.example.net/"."""
    scheme = urlsplit(settings.OUTERLOOP_BASE_URL).scheme
    return f"{scheme}://{label}.{settings.OUTERLOOP_PREVIEW_DOMAIN}/"


def preview_domain_name() -> str:
    """OUTERLOOP_PREVIEW_DOMAIN's host name, without its port, lowercase: e.g. "preview.localhost"
    for "preview.localhost:8000"."""
    return split_domain_port(settings.OUTERLOOP_PREVIEW_DOMAIN)[0]


def host_name(host: str) -> str:
    """A Host header's name (`request.get_host()` or the raw header): lowercase, without its
    port or a trailing dot; "" for a malformed one (django.http.request.split_domain_port)."""
    return split_domain_port(host)[0]


def label_of(host: str) -> str | None:
    """The preview label a request's Host header names (`request.get_host()`), or None when
    the host is not one of the preview domain's. Only the host NAME counts: the port is
    ignored on both sides, as ALLOWED_HOSTS and cookies (RFC 6265 §8.5) ignore it, so a name
    is a preview's at any port the server is reached on. Letter case is ignored, as DNS
    ignores it, and so is a trailing dot (a fully qualified name); only one label deep
    (`a.b.<domain>` is no preview)."""
    suffix = "." + preview_domain_name()
    name = host_name(host)
    if not name.endswith(suffix):
        return None
    label = name[: -len(suffix)]
    if not label or "." in label or not label.isalnum():
        return None
    return label
