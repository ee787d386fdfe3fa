"""The script a hosted preview's HTML carries: a "Tell <builder> what you think" button and the
in-app activity (taps, paths, visible time), DESIGN.md "Hosted previews".

This module holds what the preview host serves without knowing about shares: the tag injected
into HTML (`inject`), and the script and its stylesheet, answered at
`/__outerloop/widget.js` and `/__outerloop/widget.css` on the preview's own origin. The
script is a same-origin file, so a builder's own strict policy (`script-src 'self'`,
`default-src 'self'`) lets it run; a page whose scripts carry a nonce gets the same nonce on
the tag. It talks only to `/__outerloop/` on that origin (never across origins, which a
`connect-src 'self'` would block), with the first-party mark the visitor got from their share
link (reactions/widget.py answers those requests), or in the share page's frame with the mark
the share page posts it when it asks (reactions/widget.py, "Framed mode"): the tag names the
app's origin (`data-app`), the only parent the script asks and the only one it takes the mark
from.

The prefix `/__outerloop/` is reserved on every preview host: a build's own files under it are
never served.
"""

import hashlib
import re
from functools import cache
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

PREFIX = "/__outerloop/"
ASSETS = Path(__file__).resolve().parent / "widget_assets"
ASSET_TYPES = {
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}
# Injection is for an HTML page as people write it (an SPA's index.html is a few KB), not for
# a multi-megabyte export: a larger file is served as it is, untouched (and without the
# button). It also bounds what one page costs in sessions.serving's injected-page cache.
MAX_INJECTED = 512 * 1024
# What the scan for the body's end (`body_end`) looks at: a comment's start, an element whose
# content is text to the tokenizer (raw text or RCDATA: no tag inside it is one), and
# `</body>`. https://html.spec.whatwg.org/multipage/parsing.html#tokenization
MARKUP = re.compile(
    rb"(?P<comment><!--)"
    rb"|<(?P<text>script|style|textarea|title|xmp|iframe|noembed|noframes|noscript)(?=[\s/>])"
    rb"|(?P<body></body(?:[\s/][^>]*)?>)",
    re.IGNORECASE,
)
COMMENT_END = re.compile(rb"--!?>")
NONCE = re.compile(rb"<script\b[^>]*\snonce=[\"']?([A-Za-z0-9+/=_-]{8,200})", re.IGNORECASE)


@cache
def asset(name: str) -> bytes:
    """The bytes of one of the widget's files (a name in ASSET_TYPES)."""
    return (ASSETS / name).read_bytes()


@cache
def version() -> str:
    """A short hash of the widget's files: it names them in the tag and goes into the ETag of
    every injected page, so a new widget is a new representation."""
    digest = hashlib.sha256()
    for name in sorted(ASSET_TYPES):
        digest.update(asset(name))
    return digest.hexdigest()[:10]


def app_origin() -> str:
    """The app's origin (scheme://host[:port] of OUTERLOOP_BASE_URL): the only page that may
    frame a preview (sessions.serving's `frame-ancestors`) and hand the script its mark."""
    base = urlsplit(settings.OUTERLOOP_BASE_URL)
    return f"{base.scheme}://{base.netloc}"


def tag(nonce: bytes | None = None) -> bytes:
    """The one tag injected: an async same-origin script at an absolute path (a `<base href>`
    can't move it), naming the app's origin (`data-app`, for framed mode), with the page's
    script nonce when it has one."""
    extra = b' nonce="' + nonce + b'"' if nonce else b""
    return (
        b'<script src="/__outerloop/widget.js?v='
        + version().encode()
        + b'" async data-app="'
        + escape(app_origin()).encode()
        + b'"'
        + extra
        + b"></script>"
    )


def body_end(html: bytes) -> int | None:
    """Where the page's last real `</body>` starts (any letter case), or None when it has
    none: a `</body>` inside a comment, an inline `<script>` or `<style>` (a string, a
    template), or another element whose content is text, is not one. Whatever is unclosed
    at the end (a comment, a script) hides every `</body>` after its start."""
    at = None
    position = 0
    while found := MARKUP.search(html, position):
        if found["body"]:
            at, position = found.start(), found.end()
            continue
        if found["comment"]:
            # From the "<!" on, so "<!-->" and "<!--->" end where they start, as browsers read them.
            closed = COMMENT_END.search(html, found.start() + 2)
        else:
            end = re.compile(b"</" + re.escape(found["text"]) + rb"(?=[\s/>])", re.IGNORECASE)
            closed = end.search(html, found.end())
        if closed is None:
            break
        position = closed.end()
    return at


def inject(html: bytes) -> bytes:
    """`html` with the widget's tag before its last real `</body>` (`body_end`), or at the end
    when it has none (browsers put a trailing script into the body anyway)."""
    nonce = NONCE.search(html)
    script = tag(nonce.group(1) if nonce else None)
    at = body_end(html)
    if at is None:
        return html + script
    return html[:at] + script + html[at:]
