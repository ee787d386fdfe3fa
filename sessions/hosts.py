"""Host names as people read them and as headers carry them.

A preview URL may have an internationalised host (`https://bücher.example/`). It is stored as
the builder pasted it. HTTP headers are ASCII (RFC 9110 §5.5): such a host goes into a
Content-Security-Policy, a Location or any other header in its IDNA "A-label" form
(`xn--bcher-kva.example`); people read it in its Unicode form (a pasted "xn--" host too). An
href or a src keeps the stored URL: HTML carries Unicode and the browser converts the host.

The conversion is UTS #46 (the `idna` package, IDNA 2008 with the compatibility mapping
browsers use), not Python's built-in IDNA 2003 codec, which maps "ß" to "ss" and so names
another host than the browser opens.
"""

import enum
import ipaddress
from urllib.parse import SplitResult, urlsplit, urlunsplit

import idna
from django.utils.encoding import iri_to_uri


def ascii_host(host: str) -> str:
    """`host` ("bücher.example", "Пример.РФ") as its ASCII form ("xn--bcher-kva.example",
    "xn--e1afmkfd.xn--p1ai"). An ASCII host (a name, an IPv4 or IPv6 address) comes back
    unchanged. Raises ValueError when a non-ASCII host is not a valid IDNA name."""
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(f"Not a valid internationalised host name: {error}") from None


def unicode_host(host: str) -> str:
    """`host` as people read it: A-labels ("xn--…") in Unicode; anything that does not
    decode (an address, a malformed label) comes back unchanged. Never raises."""
    if "xn--" not in host.lower():
        return host
    try:
        return idna.decode(host, uts46=True)
    except (idna.IDNAError, UnicodeError):
        return host


def _with_host(parts: SplitResult, host: str) -> str:
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _split(url: str) -> tuple[SplitResult, str] | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return None
    return parts, parts.hostname or ""


def ascii_url(url: str) -> str:
    """`url` safe for any header (a Location, a Refresh, a Link): an internationalised host
    in ASCII (`ascii_host`), and the path, query and fragment percent-encoded as UTF-8 (RFC
    3987 §3.1, Django's `iri_to_uri`). A URL with an ASCII host keeps its spelling. A host
    that isn't a valid IDNA name is percent-encoded instead (still ASCII): this function never
    raises, so no page fails on an old row. Credentials in a URL with a Unicode host are
    dropped (the validator refuses them anyway)."""
    split = _split(url)
    if split is None or split[1].isascii():
        return iri_to_uri(url)
    parts, host = split
    try:
        host = ascii_host(host)
    except ValueError:
        host = iri_to_uri(host)
    return iri_to_uri(_with_host(parts, host))


def display_url(url: str) -> str:
    """`url` as people read it: a host of A-labels ("xn--…") in Unicode, everything else as
    stored. Only for text shown to a person, never for a header. Never raises."""
    split = _split(url)
    if split is None or "xn--" not in split[1]:
        return url
    parts, host = split
    return _with_host(parts, unicode_host(host))


def ascii_origin(url: str) -> str:
    """The origin of `url` ("https://xn--bcher-kva.example:8443") for a header such as a
    Content-Security-Policy source: scheme, ASCII host, and the port when one is given."""
    parts = urlsplit(ascii_url(url))
    return f"{parts.scheme}://{parts.netloc}"


class Reach(enum.Enum):
    """Where a preview URL's host opens, the one question the preview-URL policy asks
    (`sessions.validators`): it must open on the other person's device."""

    ANYWHERE = "anywhere"  # a public name or address
    SAME_NETWORK = "same_network"  # a private (LAN, VPN) address: someone on the same Wi-Fi
    THIS_COMPUTER = "this_computer"  # loopback: only ever the builder's own computer


# Names only the builder's own computer answers: `localhost` and its subdomains (RFC 6761
# §6.3; browsers send every *.localhost name to loopback).
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# Names only a local network resolves: mDNS (RFC 6762 `.local`: "my-mac.local"), the home
# network's (RFC 8375 `.home.arpa`), ICANN's private-use `.internal` and routers' `.lan`.
_NETWORK_SUFFIXES = (".local", ".home.arpa", ".internal", ".lan")
# Addresses only a local network routes. Listed, not `ip_address(...).is_private`: that also
# holds the documentation ranges (2001:db8::/32, 192.0.2.0/24), which stand for public ones.
_NETWORK_RANGES = [
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8",  # RFC 1918
        "172.16.0.0/12",  # RFC 1918
        "192.168.0.0/16",  # RFC 1918: most home Wi-Fi
        "100.64.0.0/10",  # RFC 6598 carrier-grade NAT, and Tailscale's addresses
        "169.254.0.0/16",  # RFC 3927 link-local
        "fc00::/7",  # RFC 4193 unique local
        "fe80::/10",  # RFC 4291 link-local
    )
]


def browser_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a browser reads `host` as (the WHATWG URL standard's IPv4 parser):
    "127.0.0.1", and the shorthands "127.1", "2130706433", "0x7f000001", "0177.0.0.1" all
    name 127.0.0.1. None when `host` is not an IPv4 address to a browser (a name, an IPv6
    address, a number out of range)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        base, digits = 10, part
        if part[:2].lower() == "0x":
            base, digits = 16, part[2:] or "0"
        elif len(part) > 1 and part.startswith("0"):
            base, digits = 8, part[1:]
        try:
            numbers.append(int(digits, base) if digits.isalnum() and digits.isascii() else None)
        except ValueError:
            return None
    if None in numbers or any(n > 255 for n in numbers[:-1]):
        return None
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number * 256 ** (3 - index)
    return ipaddress.IPv4Address(value)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`host` as an IP address the way a browser reads it (an IPv4-mapped IPv6 address,
    [::ffff:192.168.1.20], as its IPv4 address), or None for a name."""
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host.strip("[]"))
        except ValueError:
            return None
        return address.ipv4_mapped or address
    return browser_ipv4(host)


def reach(host: str) -> Reach:
    """Where a URL with this host opens: on this computer only (loopback: 127.0.0.0/8,
    ::1, 0.0.0.0 and :: (browsers send them to loopback), `localhost` and *.localhost); on
    the same network only (`_NETWORK_RANGES`, `_NETWORK_SUFFIXES`); or anywhere. `host` as
    `urlsplit(url).hostname` gives it (lower case, no brackets), any case and a trailing
    dot forgiven; an internationalised name in its ASCII form (`ascii_host`). Never raises."""
    host = host.strip().lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return Reach.THIS_COMPUTER
    if host.endswith(_NETWORK_SUFFIXES):
        return Reach.SAME_NETWORK
    address = _address(host)
    if address is None:
        return Reach.ANYWHERE
    if address.is_loopback or address.is_unspecified:
        return Reach.THIS_COMPUTER
    if any(address in network for network in _NETWORK_RANGES):
        return Reach.SAME_NETWORK
    return Reach.ANYWHERE


def url_reach(url: str) -> Reach:
    """`reach` of a stored URL's host (an internationalised host in its ASCII form); a URL
    that does not parse opens nowhere this module can tell, and reads as ANYWHERE."""
    split = _split(url)
    if split is None:
        return Reach.ANYWHERE
    try:
        return reach(ascii_host(split[1]))
    except ValueError:
        return Reach.ANYWHERE
