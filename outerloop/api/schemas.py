"""What more than one router reads or writes: field types, pagination, a preview asked for,
a share as answered.

django-ninja: typed schemas double as validation and as the OpenAPI document.
"""

from datetime import UTC, date, datetime
from typing import Annotated

from django.core.exceptions import ValidationError as DjangoValidationError
from ninja import Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator, Field

from common.text import clean_text
from outerloop.api.errors import Refused
from reactions.models import Share
from reactions.qr import qr_svg
from reactions.sharing import share_link
from sessions.placement import NoSuchSession, Placement, place_build, place_preview
from sessions.validators import normalize_url, validate_preview_url

BIGINT_MAX = 2**63 - 1


def _storable(value: str) -> str:
    """Text a database can store, as from a web form: no NUL, no lone surrogate ("\\ud800")."""
    if "\x00" in value:
        raise ValueError("Null characters are not allowed.")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode.") from None
    return value


def _utc(moment: datetime) -> datetime:
    """A naive moment is UTC; one that doesn't fit the calendar in UTC is refused."""
    try:
        return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    except OverflowError:
        raise ValueError("That moment is out of range.") from None


Text = Annotated[str, AfterValidator(_storable)]
# What a person typed: storable, then cleaned as every form cleans it (common.text).
PeoplesText = Annotated[Text, AfterValidator(clean_text)]
Moment = Annotated[datetime, AfterValidator(_utc)]


class Pages(LimitOffsetPagination):
    """Limit and offset, no larger than a database's 64-bit LIMIT and OFFSET."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=BIGINT_MAX)
        offset: int = Field(0, ge=0, le=BIGINT_MAX)


# A preview asked for (POST /previews, and the turn's POST /shares) -------------------------

# Which session a preview goes into: the rule is sessions.placement's, said for the document.
TITLE = (
    "What it is: the session's title. Given, it picks your session of that title (any letter "
    "case), or starts a new one so titled."
)
SESSION = (
    "One of your sessions, by title or number (“Crag finder”, “#12”; a title wins). Left "
    "out, the session is found by `title`, then by the URL: a URL already in one of your "
    "sessions goes to that session (compared without letter case in the scheme and host, a "
    "default port or a trailing slash)."
)
NEW_SESSION = "Start a new session even when the URL or the title is already in one."


class PreviewIn(Schema):
    url: Text = Field(description="http(s) only, at most 2,048 characters")
    title: Annotated[PeoplesText, Field(max_length=120)] | None = Field(None, description=TITLE)
    session_id: int | None = Field(None, description="One of your sessions, by number.")
    session: Annotated[PeoplesText, Field(min_length=1, max_length=120)] | None = Field(
        None, description=SESSION
    )
    new_session: bool = Field(False, description=NEW_SESSION)
    ttl_seconds: int | None = Field(None, ge=60, le=7 * 24 * 3600)


def valid_url(raw: str) -> str:
    """The URL as stored (`normalize_url`), or Refused (422 invalid_url) with the web form's
    words."""
    url = normalize_url(raw)
    try:
        validate_preview_url(url)
    except DjangoValidationError as exc:
        raise Refused(422, "invalid_url", " ".join(exc.messages)) from None
    return url


def placement_for(request, url: str, payload: PreviewIn) -> Placement:
    """Where the preview goes (`sessions.placement`), or Refused: 422 for a session asked for
    together with a title or a new session, 404 for a session that isn't the builder's."""
    return _placed(place_preview, request, url, payload)


def build_placement_for(request, name: str, payload) -> Placement:
    """Where a hosted preview of a build uploaded as `name` goes (`place_build`), refused as
    `placement_for` refuses. `payload` has PreviewIn's placement fields (title, session_id,
    session, new_session)."""
    return _placed(place_build, request, name, payload)


def _placed(place, request, what: str, payload) -> Placement:
    if payload.session_id is not None and payload.session is not None:
        raise Refused(422, "invalid_session", "Give session_id or session, not both.")
    asked = payload.session_id if payload.session_id is not None else payload.session
    try:
        return place(
            request.user,
            what,
            title=payload.title or "",
            session=asked,
            new_session=payload.new_session,
        )
    except NoSuchSession as missing:
        raise Refused(404, "no_such_session", str(missing)) from None
    except ValueError as problem:
        raise Refused(422, "invalid_session", str(problem)) from None


# A share as answered (made, or looked up) ------------------------------------------------


class ShareOut(Schema):
    id: int
    url: str
    token: str
    recipient: str
    day: date = Field(description="The builder-local day stamped on the share when it was sent.")
    recipient_note: str
    expires_at: datetime
    qr_svg: str


def share_out(share: Share) -> dict:
    """`ShareOut`'s fields of `share`: its link (`share_link`) and that link's QR code."""
    link = share_link(share)
    return {
        "id": share.pk,
        "url": link,
        "token": share.token,
        "recipient": share.recipient.name,
        "day": share.day,
        "recipient_note": share.recipient.note,
        "expires_at": share.preview.expires_at,
        "qr_svg": str(qr_svg(share_link(share, via_qr=True), label=f"QR code for {link}")),
    }
