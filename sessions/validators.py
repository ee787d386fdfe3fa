"""What a builder may paste as a preview URL: a public http(s) address, nothing else."""

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from sessions.hosts import ascii_host

MAX_URL_LENGTH = 2048
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

_url_validator = URLValidator(schemes=["http", "https"])


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # [::ffff:127.0.0.1] is 127.0.0.1 to a browser
    return address.is_loopback or address.is_unspecified


def validate_preview_url(value: str) -> None:
    if len(value) > MAX_URL_LENGTH:
        raise ValidationError(
            f"That URL is {len(value):,} characters long; the limit is {MAX_URL_LENGTH:,}.",
            code="too_long",
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError(
            "A URL can't contain spaces or control characters.", code="whitespace"
        )
    if any(unicodedata.category(ch) == "Cf" for ch in value):
        # Zero-width spaces, text-direction overrides, byte-order marks: a URL that reads as
        # one address and opens another.
        raise ValidationError(
            "That URL has invisible characters in it (such as a zero-width space or a "
            "text-direction mark). Copy it again from the browser's address bar.",
            code="invisible",
        )
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme not in {"http", "https"}:
        raise ValidationError(
            "Paste the preview's web address, starting with https:// (or http://).",
            code="scheme",
        )
    try:
        parts = urlsplit(value)
    except ValueError:  # a malformed [IPv6] host
        raise ValidationError(
            "That doesn't look like a web address. Check it and paste it again.", code="invalid"
        ) from None
    try:
        parts.port  # noqa: B018 - raises on a port out of range, which no browser opens
    except ValueError:
        raise ValidationError(
            "That doesn't look like a web address. Check it and paste it again.", code="invalid"
        ) from None
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "Leave the user name and password out of the URL: the person you send it to "
            "would see them.",
            code="credentials",
        )
    try:
        _url_validator(value)
    except ValidationError:
        raise ValidationError(
            "That doesn't look like a web address. Check it and paste it again.", code="invalid"
        ) from None
    try:
        host = ascii_host(parts.hostname or "")
    except ValueError:  # a Unicode host no browser would resolve
        raise ValidationError(
            "That doesn't look like a web address. Check it and paste it again.", code="invalid"
        ) from None
    if _is_loopback(host):
        raise ValidationError(
            "That address only works on your own computer. Paste a URL the other person can "
            "open, such as your preview deployment's.",
            code="loopback",
        )


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def validate_hostname(value: str) -> None:
    """A domain name a person can point at a preview: labels of letters, digits and hyphens."""
    host = value.rstrip(".")
    labels = host.split(".")
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(
            "Enter a domain name like crags.example.com: letters, digits, hyphens and dots, "
            "no https:// and no path.",
            code="hostname",
        )
