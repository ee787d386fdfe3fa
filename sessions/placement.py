"""Which build session a preview URL, or an uploaded build, goes into: the one rule the
dashboard's turn form, the API and the CLI (through the API) all call.

In order, the first that applies:

1. `session`: the session the builder picked, by title (any letter case) or by number
   ("12" or "#12"; a title wins over a number when both match). None of theirs: `NoSuchSession`.
2. `new_session`: a new session, titled `title` or after the URL's host.
3. `title`: the builder's session of that title (any letter case, the newest if several), or a
   new session so titled. A title that differs from the URL's session is the builder saying
   "this is something else".
4. The session already holding a preview of the same URL (`url_key`), the newest such preview's.
5. A new session named after the URL's host.

An uploaded build has no URL yet (it gets an origin of its own when hosted), so
`place_build` applies rules 1 to 3 and then 5 with the build's name for the host's: the
upload's folder name, or the folder above it for a generic one ("habit-tracker/dist" is
"habit-tracker"; `title_from_build`).

`place_preview` and `place_build` only read, so a caller checks everything before it writes
anything; `Placement.preview` writes, inside the caller's transaction.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from django.db.models import Q

from sessions.forms import title_from_url
from sessions.hosts import ascii_url, unicode_host
from sessions.models import BuildSession, HostedBuild, Preview, preview_expiry

DEFAULT_PORTS = {"http": 80, "https": 443}
BIGINT_MAX = 2**63 - 1
SESSION_NUMBER = re.compile(r"#?(\d{1,18})")
# Candidate previews read at a time when looking for one of the same URL.
PAGE = 50
# Folder names that say how a build was made, not what it is: a build in "habit-tracker/dist"
# is titled "habit-tracker" (the names of common bundlers' and static generators' outputs).
GENERIC_BUILD_FOLDERS = frozenset(
    {"build", "dist", "out", "output", "public", "site", "_site", "www", "html", "static", "web"}
)
UNTITLED_BUILD = "Uploaded build"
TITLE_MAX_LENGTH = 120


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


def is_generic_title(title: str) -> bool:
    """Whether a new session's title (`title_from_build`'s) says how the build was made
    rather than what it is: a generic build folder's name, or UNTITLED_BUILD."""
    return title == UNTITLED_BUILD or title.lower() in GENERIC_BUILD_FOLDERS


def title_from_build(name: str) -> str:
    """A new session's title for a build uploaded as `name` (a folder's path, its last parts
    at most, "/" or "\\" separated; or a zip's file name): the last part, without ".zip",
    unless it is a generic build folder (`GENERIC_BUILD_FOLDERS`) with a part before it;
    `UNTITLED_BUILD` for nothing usable. At most 120 characters."""
    parts = [part.strip() for part in re.split(r"[/\\]", name) if part.strip(" .")]
    if parts and parts[-1].lower().endswith(".zip"):
        parts[-1] = parts[-1][:-4]
    parts = [part for part in parts if part.strip(" .")]
    while len(parts) > 1 and parts[-1].lower() in GENERIC_BUILD_FOLDERS:
        parts.pop()
    return (parts[-1] if parts else UNTITLED_BUILD)[:TITLE_MAX_LENGTH]


@dataclass(frozen=True)
class Placement:
    """Where a preview of `url` goes: `session` (None for a new one, titled `title`), how it
    was found (`joined`), and that session's newest preview of the same URL, if any. For an
    uploaded build (`place_build`), `url` is "" and there is no preview of the same URL."""

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

    def hosted_preview(
        self,
        builder,
        build: HostedBuild,
        *,
        frameable: bool = False,
        ttl_seconds: int | None = None,
        widget: bool = True,
    ) -> Preview:
        """Writes the new session if there is one, and returns a new hosted preview of
        `build` in it, at an origin of its own (`Preview.hosting`), living `ttl_seconds`
        (OUTERLOOP_PREVIEW_TTL when None), with the reaction button inside unless `widget`
        is False. Call it inside the transaction that writes the rest."""
        session = self.session or BuildSession.objects.create(builder=builder, title=self.title)
        return Preview.hosting(
            session,
            build,
            frameable=frameable,
            widget=widget,
            expires_at=preview_expiry(ttl_seconds),
        )

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
    asked = _asked(builder, url, title, session, new_session, default_title=title_from_url(url))
    if asked is not None:
        return asked
    same = newest_with_url(Preview.objects.owned_by(builder), url)
    if same is not None:
        return Placement(url, same.session, same.session.title, Joined.URL, same)
    return Placement(url, None, title_from_url(url), Joined.NEW)


def place_build(
    builder,
    name: str,
    *,
    title: str = "",
    session: str | int | None = None,
    new_session: bool = False,
) -> Placement:
    """Where a hosted preview of a build uploaded as `name` (its folder or zip file's name,
    `title_from_build`) goes: the session picked, else a new one with `new_session`, else
    the session of the typed `title` (or a new one so titled), else a new session titled from
    `name`. The arguments and errors are `place_preview`'s. Reads only."""
    default_title = title_from_build(name)
    asked = _asked(builder, "", title, session, new_session, default_title=default_title)
    return asked or Placement("", None, default_title, Joined.NEW)


def _asked(
    builder,
    url: str,
    title: str,
    session: str | int | None,
    new_session: bool,
    *,
    default_title: str,
) -> Placement | None:
    """Rules 1 to 3: the placement the builder asked for (a session, a new one, a title), or
    None when they asked for none."""
    title = title.strip()
    if session is not None and (title or new_session):
        raise ValueError(
            "Either pick one of your sessions, or give a title or ask for a new session: not both."
        )
    if session is not None:
        found = session_called(builder, session)
        return Placement(url, found, found.title, Joined.ASKED, _same_url_in(found, url))
    if new_session:
        return Placement(url, None, title or default_title, Joined.NEW)
    if title:
        titled = BuildSession.objects.owned_by(builder).titled(title).first()
        if titled is None:
            return Placement(url, None, title, Joined.NEW)
        return Placement(url, titled, titled.title, Joined.TITLE, _same_url_in(titled, url))
    return None


def _same_url_in(session: BuildSession, url: str) -> Preview | None:
    """The session's newest preview of `url`; None for a build (no URL yet)."""
    return newest_with_url(session.previews.all(), url) if url else None
