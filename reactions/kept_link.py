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
give: a render leaves them in the cache under the token's hash (`learn`), and a process
keeps what it read (the last LINKS_HERE). A token, its link's id and builder never change (a
renewal is a new link; a merge moves a link between one builder's people), so neither copy
needs a version. The first load of a link renders and keeps nothing (its versions could not
be read before its row); the next, in any process, keeps its render; the ones after are
answered from it.
"""

import contextlib
import hashlib

from django.core.cache import cache
from django.http import HttpRequest

from common import changes
from common.cache import FAILURES, REFUSALS
from reactions.activity import PAGE_MARK_SECONDS, page_mark
from reactions.browser import SAID_COOKIE
from reactions.live import NOT_KEPT, Kept, kept_page, placeholder
from reactions.models import Share, new_idempotency_key

# The queries a kept page may have: none, and the QR code's.
KEPT_QUERIES = ("", "via=qr")
# How many links' ids a process keeps (`_links_here`): a few hundred kilobytes.
LINKS_HERE = 10_000
# How long the cache holds a link's ids (`learn`): a day, longer than most links live.
LINK_IDS_SECONDS = 24 * 3600


_links_here: dict[str, tuple[int, int]] = {}  # token: (link id, builder id)


def _ids_key(token: str) -> str:
    """Where the cache holds a token's ids: under its hash, as a token is a capability."""
    return "link:ids:" + hashlib.sha256(token.encode()).hexdigest()[:40]


def _keep_here(token: str, ids: tuple[int, int]) -> None:
    if len(_links_here) >= LINKS_HERE:
        _links_here.clear()  # crude, and rare: a process is asked for far fewer links
    _links_here[token] = ids


def learn(share: Share) -> None:
    """Remember the ids `share`'s token stands for (its person loaded), here and in the
    cache, for `kept_link`; nothing more once this process knows them."""
    if share.token in _links_here:
        return
    ids = (share.pk, share.recipient.builder_id)
    _keep_here(share.token, ids)
    if changes.enabled():
        with contextlib.suppress(REFUSALS):  # then the next load learns them again
            cache.set(_ids_key(share.token), ids, LINK_IDS_SECONDS)


def _ids(token: str) -> tuple[int, int] | None:
    """The ids `token` stands for, as learnt here or by any process; None if none knows."""
    if (ids := _links_here.get(token)) is not None:
        return ids
    try:
        ids = cache.get(_ids_key(token))
    except FAILURES:
        return None
    if isinstance(ids, tuple):
        _keep_here(token, ids)
        return ids
    return None


def kept_link(request: HttpRequest, token: str, *, marking: bool) -> Kept:
    """The `Kept` of this load of `token`'s page, with its render when one holds; NOT_KEPT
    when this load can't be answered from one nor keep one (see the module's docstring).
    One cache round trip, which also leaves the browser's `page_mark` when `marking` (a
    person's GET) and the Kept has a key; two when this process hasn't learnt the link's ids,
    none when no process has. A logged-in builder's session is read to tell their own link
    (as a rendered page reads it)."""
    query = request.META.get("QUERY_STRING", "")
    if (
        request.method not in ("GET", "HEAD")
        or request.htmx
        or query not in KEPT_QUERIES
        or SAID_COOKIE in request.COOKIES
        or not changes.enabled()
        or (ids := _ids(token)) is None
    ):
        return NOT_KEPT
    share_id, builder_id = ids
    if request.user.is_authenticated and request.user.pk == builder_id:
        return NOT_KEPT
    versions = (changes.share_key(share_id), changes.own_rows_key(builder_id))
    marks = {page_mark(request, share_id): 1} if marking else None
    return kept_page(
        repr(("link", token, query)), versions, setting=marks, setting_seconds=PAGE_MARK_SECONDS
    )


def keep(
    kept: Kept, request: HttpRequest, share: Share, html: str, form_key: str, frame_origin: str
) -> None:
    """Keep `html`, the page rendered for `request` with the new form's `form_key`, in
    `kept` (made `holding_until` before the render), with what its answers need: `share`'s
    id, its page's path, and the preview's origin the page frames ("" for none)."""
    nonce = str(request.csp_nonce)
    html = html.replace(nonce, placeholder("nonce")).replace(form_key, placeholder("form-key"))
    facts = {"share_id": share.pk, "path": request.path, "frame_origin": frame_origin}
    kept.keep(html, facts=facts)


def kept_html(request: HttpRequest, kept: Kept) -> str:
    """The page from `kept`'s render, with this answer's CSP nonce and a new idempotency key."""
    nonce = str(request.csp_nonce)
    html = kept.html.replace(placeholder("nonce"), nonce)
    return html.replace(placeholder("form-key"), new_idempotency_key())
