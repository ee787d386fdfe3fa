"""What a builder may paste as a preview URL: an http(s) address the other person can open.

The policy, in one sentence: *a preview URL must open on the other person's device*
(`sessions.hosts.reach` says where a host opens).
- A loopback address (`localhost`, 127.0.0.1, [::1], 0.0.0.0, *.localhost) never does: it
  is refused, and the message names the ways that work (the computer's Wi-Fi address in
  person, a tunnel, the preview deployment).
- A private network address (192.168.1.20, 10.x, my-mac.local, a VPN's 100.64/10) opens for
  someone on the same Wi-Fi: it is accepted, and the builder is told so where the URL is
  typed (`PREVIEW_URL_HELP`), and next to the preview and its links
  (templates/sessions/_same_network.html).

What the builder typed is tidied first (`normalize_url`), by the web form and the API alike.
"""

import re
import unicodedata
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from sessions.hosts import Reach, ascii_host, reach

MAX_URL_LENGTH = 2048

_url_validator = URLValidator(schemes=["http", "https"])

GARBLED = "That doesn't look like a web address. Check it and paste it again."
# The preview URL field's help text, wherever a builder types one (HTML: field.html marks
# help texts safe).
PREVIEW_URL_HELP = (
    "It must open on their device: <code>localhost</code> never does; a Wi-Fi address "
    "(<code>192.168.…</code>) does only on your Wi-Fi. No public URL yet? "
    "<code>cloudflared tunnel --url http://localhost:3000</code> or <code>ngrok http 3000</code> "
    "makes one."
)


def local_only_message(port: int) -> str:
    """Why a loopback URL is refused, and the three ways that work, with the builder's own
    port (the URL's, or its scheme's default) in the example and the tunnel commands."""
    return (
        "That address only opens on your own computer, never on the other person's device. "
        "If they're beside you, use your computer's Wi-Fi address instead (like "
        f"http://192.168.1.20:{port}, with your dev server started with --host) and show them "
        f"the QR code. Anywhere else, run a tunnel (cloudflared tunnel --url "
        f"http://localhost:{port} or ngrok http {port}) and paste the URL it prints, or paste "
        "your preview deployment's URL."
    )


def normalize_url(value: str) -> str:
    """A preview URL as the builder typed it, made ready for `validate_preview_url`: trimmed,
    with https:// added to a bare host like “myapp.vercel.app/demo” (or “localhost:3000”,
    which the policy then refuses with its reason). Anything else comes back as typed."""
    value = value.strip()
    head = value.split("/", 1)[0].split(":", 1)[0]
    if value and "://" not in value and ("." in head or head == "localhost"):
        value = f"https://{value}"
    return value


def validate_preview_url(value: str) -> None:
    """Refuses (ValidationError, a `code` per reason) a URL that is too long, has spaces,
    control or invisible characters, credentials, a scheme other than http(s), a garbled
    host or port, or a host that opens only on the builder's computer (`Reach.THIS_COMPUTER`;
    a browser's shorthand for one, 127.1 or 2130706433, too). A private network address is
    accepted: where it opens is said to the builder, not refused."""
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
        raise ValidationError(GARBLED, code="invalid") from None
    try:
        parts.port  # noqa: B018 - raises on a port out of range, which no browser opens
    except ValueError:
        raise ValidationError(GARBLED, code="invalid") from None
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "Leave the user name and password out of the URL: the person you send it to "
            "would see them.",
            code="credentials",
        )
    try:
        host = ascii_host(parts.hostname or "")
    except ValueError:  # a Unicode host no browser would resolve
        raise ValidationError(GARBLED, code="invalid") from None
    # Before the syntax check: "localhost.", "127.1" and "2130706433" are loopback to a
    # browser, and saying so helps more than "doesn't look like a web address".
    if reach(host) is Reach.THIS_COMPUTER:
        port = parts.port or (443 if scheme == "https" else 80)
        raise ValidationError(local_only_message(port), code="loopback")
    try:
        _url_validator(value)
    except ValidationError:
        raise ValidationError(GARBLED, code="invalid") from None


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
