"""The recipient's page kept between loads: a load while nothing about its link changed is
answered from the page's last render, with no query and no template (`reactions.live.Kept`).

A link's page shows the link, its preview (title, address, expiry) and its builder's name,
and nothing that moves with the clock until the preview expires. Their writers replace the
link's change version or the builder's own rows' (`common.changes`: a rename, a deleted link,
person, session, preview or account, an expiry), so a kept render holds while both versions
do, until the preview expires, KEPT_SECONDS at most.

What a page holds for one browser is never kept, and such a load renders: what this browser
said (its cookie), the builder's own notice (their session), a form shown again with its
errors. So do expired links (they forward to a renewal or ask for a fresh link), a query
other than the QR code's `?via=qr`, htmx, and every page while there is no shared cache.
Each answer puts its own CSP nonce and idempotency key in the render's placeholders.

The versions are keyed by the link's id and its builder's, which the token alone doesn't
give, so the render is kept under a hash of the token with those ids, and a process
remembers the ids of the links it rendered or read (`learn`). A token, its link's id and
builder never change (a renewal is a new link; a merge moves a link between one builder's
people), so the ids need no version.

A process's first load of a link finds no render (one round trip) and renders, keeping
nothing: its versions could not be read before its row. Its next load reads them first and
keeps the render; any load after that, in any process, is answered from it. With W worker
processes a link may render W + 1 times before one is kept.
"""

from django.core.cache import cache
from django.http import HttpRequest

from common import changes
from common.cache import FAILURES, get_many_setting
from reactions.activity import PAGE_MARK_SECONDS, is_builder, page_mark
from reactions.browser import SAID_COOKIE
from reactions.live import NOT_KEPT, Here, Kept, filled, kept_key, kept_under
from reactions.models import Share, new_idempotency_key

# The queries a kept page may have: none, and the QR code's.
KEPT_QUERIES = ("", "via=qr")
# How many links' ids a process keeps (`_links_here`), about 2 MB of them; all are forgotten
# at once when it is full.
LINKS_HERE = 10_000

_links_here = Here(LINKS_HERE)  # token: (link id, builder id)


def learn(share: Share) -> None:
    """Remember here the ids `share`'s token stands for (its person loaded), for
    `kept_link`; other processes read them from the render a later load keeps."""
    if share.token not in _links_here:
        _links_here.keep(share.token, (share.pk, share.recipient.builder_id))


def kept_link(request: HttpRequest, token: str, *, marking: bool) -> tuple[Kept, bool]:
    """The `Kept` of this load of `token`'s page, with its render when one holds (NOT_KEPT
    when this load can't be answered from one nor keep one: see the module's docstring),
    and whether the browser's `page_mark` was written on the way (only when `marking`, a
    person's GET, and only for a link that exists or existed: an unknown token writes
    nothing).

    One cache round trip when this process knows the link's ids: the versions and the render,
    the mark written beside. Otherwise one for the render (which names the ids; the mark
    written only if it is there), and a second for the versions when it is. A logged-in
    builder's session is read to tell their own link, as a rendered page reads it."""
    query = request.META.get("QUERY_STRING", "")
    if (
        request.method not in ("GET", "HEAD")
        or request.htmx
        or query not in KEPT_QUERIES
        or SAID_COOKIE in request.COOKIES
        or not changes.enabled()
    ):
        return NOT_KEPT, False
    key = kept_key("link", token, query)
    marks = {page_mark(request, token): 1} if marking else {}
    if (ids := _links_here.get(token)) is not None:
        if is_builder(request, ids[1]):
            return NOT_KEPT, False
        versions, found, marked = changes.current_setting(
            _version_keys(ids), key, marks, PAGE_MARK_SECONDS
        )
        return kept_under(key, versions, found), marked
    try:
        found, marked = get_many_setting(
            cache, [key], marks, PAGE_MARK_SECONDS, if_first_found=True
        )
    except FAILURES:
        return NOT_KEPT, False
    if not isinstance(entry := found.get(key), dict):
        return NOT_KEPT, False  # no render kept: rendering keeps nothing either
    ids = (entry["facts"]["share_id"], entry["facts"]["builder_id"])
    _links_here.keep(token, ids)
    if is_builder(request, ids[1]):
        return NOT_KEPT, marked
    return kept_under(key, changes.current(_version_keys(ids)), entry), marked


def _version_keys(ids: tuple[int, int]) -> tuple[str, str]:
    share_id, builder_id = ids
    return changes.share_key(share_id), changes.own_rows_key(builder_id)


def keep(kept: Kept, share: Share, html: str, frame_origin: str) -> None:
    """Keep `html`, `share`'s page rendered with `placeholder`s for the CSP nonce and the new
    form's key, in `kept` (made `holding_until` before the render), with what its answers
    need: `share`'s id and its builder's, and the preview's origin the page frames ("" for
    none)."""
    facts = {
        "share_id": share.pk,
        "builder_id": share.recipient.builder_id,
        "frame_origin": frame_origin,
    }
    kept.keep(html, facts=facts)


def kept_html(request: HttpRequest, html: str) -> str:
    """The page from a render kept by `keep`, `filled` with this answer's CSP nonce and a new
    idempotency key."""
    return filled(html, request, form_key=new_idempotency_key())
