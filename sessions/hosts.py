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
