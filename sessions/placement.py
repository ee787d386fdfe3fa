"""Which build session a preview URL goes into: the one rule the dashboard's turn form, the API
and the CLI (through the API) all call.

In order, the first that applies:

1. `session`: the session the builder picked, by title (any letter case) or by number
   ("12" or "#12"; a title wins over a number when both match). None of theirs: `NoSuchSession`.
2. `new_session`: a new session, titled `title` or after the URL's host.
3. `title`: the builder's session of that title (any letter case, the newest if several), or a
   new session so titled. A title that differs from the URL's session is the builder saying
   "this is something else".
4. The session already holding a preview of the same URL (`url_key`), the newest such preview's.
5. A new session named after the URL's host.

`place_preview` only reads, so a caller checks everything before it writes anything;
`Placement.preview` writes, inside the caller's transaction.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from django.db.models import Q

from sessions.forms import title_from_url
from sessions.hosts import ascii_url, unicode_host
from sessions.models import BuildSession, Preview

DEFAULT_PORTS = {"http": 80, "https": 443}
BIGINT_MAX = 2**63 - 1
SESSION_NUMBER = re.compile(r"#?(\d{1,18})")
# Candidate previews read at a time when looking for one of the same URL.
PAGE = 50


class NoSuchSession(LookupError):
    """`session` names none of the builder's sessions; str() is a sentence for them."""

    def __init__(self, asked: str | int) -> None:
        if isinstance(asked, int) or (asked.startswith("#") and SESSION_NUMBER.fullmatch(asked)):
            sentence = f"You have no session numbered #{str(asked).lstrip('#')}."
        elif SESSION_NUMBER.fullmatch(asked):
            sentence = f"You have no session called “{asked}” or numbered #{asked}."
        else:
            sentence = f"You have no session called “{asked}”."
        super().__init__(sentence)
        self.asked = asked


class Joined(StrEnum):
    """How the session was found: the API's `session_match`."""

    ASKED = "asked"  # the session the builder picked
    URL = "url"  # the session that already had this URL
    TITLE = "title"  # the session of the title they typed
    NEW = "new"  # a new session


def url_key(url: str) -> str:
    """`url` as two spellings of one address share it: the scheme and the host in lower case,
    the host in its ASCII form (`ascii_url`: "bücher.example" is "xn--bcher-kva.example"),
    no default port (":443" for https, ":80" for http), and no trailing "/" at the end of the
    path (so "https://myapp.vercel.app", ".../" and "HTTPS://MyApp.vercel.app:443/" are one
    address). The rest is compared as written: http and https differ (a dev server answers
    one of them), and so do another port, path, query or fragment. Never raises: a URL that
    does not parse is its own key."""
    try:
        parts = urlsplit(ascii_url(url.strip()))
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 keeps its brackets
        host = f"[{host}]"
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), parts.query, parts.fragment))


def _host_prefixes(key: str) -> Q:
    """Stored URLs that may share `key`: those starting with its scheme and host, in the
    ASCII or the Unicode spelling (a narrowing for the database; `url_key` decides)."""
    parts = urlsplit(key)
    host = parts.hostname or ""
    prefixes = Q()
    for spelling in {host, unicode_host(host)}:
        if ":" in spelling:  # an IPv6 address is stored in brackets
            spelling = f"[{spelling}]"
        prefixes |= Q(url__istartswith=f"{parts.scheme}://{spelling}")
    return prefixes


def newest_with_url(previews, url: str) -> Preview | None:
    """The newest preview of `previews` (a queryset) whose URL is `url` by `url_key`, with
    its session. Usually two queries: the newest candidates' URLs (those on the same host,
    PAGE at a time), then the one found."""
    key = url_key(url)
    candidates = (
        previews.filter(_host_prefixes(key)).order_by("-created_at", "-id").values_list("pk", "url")
    )
    start = 0
    while page := list(candidates[start : start + PAGE]):
        for pk, stored in page:
            if url_key(stored) == key:
                return Preview.objects.select_related("session__builder").get(pk=pk)
        start += PAGE
    return None


def session_called(builder, asked: str | int) -> BuildSession:
    """The builder's session `asked` for: a title (any letter case, the newest of several)
    or a number (12, "12", "#12"). Raises NoSuchSession."""
    owned = BuildSession.objects.owned_by(builder)
    if isinstance(asked, str):
        titled = owned.titled(asked).first()
        if titled is not None:
            return titled
        number = SESSION_NUMBER.fullmatch(asked)
        asked_pk = int(number[1]) if number else None
    else:
        asked_pk = asked
    found = None
    if asked_pk is not None and 0 < asked_pk <= BIGINT_MAX:  # a number no database refuses
        found = owned.filter(pk=asked_pk).first()
    if found is None:
        raise NoSuchSession(asked)
    return found


@dataclass(frozen=True)
class Placement:
    """Where a preview of `url` goes: `session` (None for a new one, titled `title`), how it
    was found (`joined`), and that session's newest preview of the same URL, if any."""

    url: str
    session: BuildSession | None
    title: str
    joined: Joined
    same_url: Preview | None = None

    def preview(
        self,
        builder,
        *,
        reuse: bool = True,
        frameable: bool = False,
        ttl_seconds: int | None = None,
    ) -> Preview:
        """Writes the new session if there is one, and returns the preview to share: with
        `reuse`, the session's preview of the same URL as it is (sending a link renews an
        expired one: `reactions.sharing.send_link`); otherwise, or with no such preview, a
        new one. Call it inside the transaction that writes the rest."""
        if self.same_url is not None and reuse:
            return self.same_url
        session = self.session or BuildSession.objects.create(builder=builder, title=self.title)
        return session.add_preview(self.url, frameable=frameable, ttl_seconds=ttl_seconds)

    @property
    def session_title(self) -> str:
        return self.session.title if self.session is not None else self.title


def place_preview(
    builder,
    url: str,
    *,
    title: str = "",
    session: str | int | None = None,
    new_session: bool = False,
) -> Placement:
    """Where a preview of `url` (already normalised and valid) goes, by the module's rule.

    `title` is what the builder typed ("" for nothing); `session` a title or a number of
    theirs; `new_session` asks for a new one. Reads only. Raises NoSuchSession for a
    `session` that isn't theirs, and ValueError (a sentence for the builder) when `session`
    comes with `title` or `new_session`."""
    title = title.strip()
    if session is not None and (title or new_session):
        raise ValueError(
            "Either pick one of your sessions, or give a title or ask for a new session: not both."
        )
    from_host = title_from_url(url)
    if session is not None:
        found = session_called(builder, session)
        return Placement(url, found, found.title, Joined.ASKED, _same_url_in(found, url))
    if new_session:
        return Placement(url, None, title or from_host, Joined.NEW)
    if title:
        titled = BuildSession.objects.owned_by(builder).titled(title).first()
        if titled is None:
            return Placement(url, None, title, Joined.NEW)
        return Placement(url, titled, titled.title, Joined.TITLE, _same_url_in(titled, url))
    same = newest_with_url(Preview.objects.owned_by(builder), url)
    if same is not None:
        return Placement(url, same.session, same.session.title, Joined.URL, same)
    return Placement(url, None, from_host, Joined.NEW)


def _same_url_in(session: BuildSession, url: str) -> Preview | None:
    return newest_with_url(session.previews.all(), url)
