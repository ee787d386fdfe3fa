"""The JSON API under /api/v1/: the outer-loop step at the end of a build session.

django-ninja: typed schemas double as validation and as the OpenAPI document, with
interactive docs at /api/v1/docs. Every object is fetched through the token's builder.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import HttpBearer
from pydantic import AfterValidator, Field

from common.text import clean_text
from outerloop.habit import habit_for
from outerloop.models import ApiToken, hash_api_token
from outerloop.turns import take_turn
from reactions import limits
from reactions.models import RECIPIENT_NAME_MAX_LENGTH, Channel, Reaction, Share, name_and_note
from reactions.qr import qr_svg
from reactions.sharing import send_link, share_link
from sessions.models import Preview
from sessions.placement import Joined, NoSuchSession, Placement, place_preview
from sessions.validators import normalize_url, validate_preview_url

PER_MINUTE = limits.Limit("api-token", 60, 60)
# Wrong bearer tokens, per client (its hashed IP): guessing a token costs a 429 after this many.
WRONG_TOKENS_PER_CLIENT = limits.Limit("api-wrong-tokens", 30, 600)
TOUCH_EVERY = timedelta(minutes=1)
BIGINT_MAX = 2**63 - 1


class RateLimited(Exception):
    def __init__(self, limit: limits.Limit, detail: str) -> None:
        super().__init__(detail)
        self.limit = limit
        self.detail = detail


class TokenAuth(HttpBearer):
    """A bearer token of an active builder, each token with its own budget per minute.

    A token that matches nothing counts against its client (the hashed IP, never the raw one);
    past the limit, that client's wrong tokens get a 429 instead of a 401. A valid token still
    works from there, as a real share link still opens past the recipients' guessing limit:
    tokens carry 256 random bits, so the limit is about noise rather than odds, and a shared
    address (an office, a CI runner) must not lock its own builders out.
    """

    def authenticate(self, request: HttpRequest, token: str):
        row = (
            ApiToken.objects.active()
            .select_related("builder")
            .filter(token_hash=hash_api_token(token))
            .first()
        )
        if row is None:
            if not limits.allow(WRONG_TOKENS_PER_CLIENT, limits.client_id(request)):
                raise RateLimited(
                    WRONG_TOKENS_PER_CLIENT,
                    "Too many wrong tokens from your address; check the token and try again "
                    f"in {WRONG_TOKENS_PER_CLIENT.seconds // 60} minutes.",
                )
            return None
        if not limits.allow(PER_MINUTE, str(row.pk)):
            raise RateLimited(PER_MINUTE, "60 requests a minute per token; slow down.")
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.builder
        return row.builder


api = NinjaAPI(
    title="Outer Loop API",
    version="1",
    description="Create a preview link for one named person, and hear back.",
    urls_namespace="api",
    auth=TokenAuth(),
)


def error(request: HttpRequest, status: int, code: str, detail) -> HttpResponse:
    return api.create_response(request, {"error": code, "detail": detail}, status=status)


@api.exception_handler(NinjaValidationError)
def on_invalid(request, exc):
    return error(request, 422, "invalid", exc.errors)


@api.exception_handler(AuthenticationError)
def on_unauthorized(request, exc):
    return error(request, 401, "unauthorized", "Send a valid token: Authorization: Bearer ol_…")


@api.exception_handler(RateLimited)
def on_rate_limited(request, exc):
    response = error(request, 429, "rate_limited", exc.detail)
    response["Retry-After"] = str(exc.limit.seconds)
    return response


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    return error(request, 400, "too_large", f"A request body can be at most {limit} KB.")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error(request, 404, "not_found", "No such object of yours.")


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    return error(request, exc.status_code, "error", str(exc))


# Schemas -----------------------------------------------------------------------------------


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
SESSION_MATCH = (
    "How the session was found: `asked` (your `session`), `url` (it already had this URL), "
    "`title` (your session of that title) or `new`."
)


class PreviewIn(Schema):
    url: Text = Field(description="http(s) only, at most 2,048 characters")
    title: Annotated[PeoplesText, Field(max_length=120)] | None = Field(None, description=TITLE)
    session_id: int | None = Field(None, description="One of your sessions, by number.")
    session: Annotated[PeoplesText, Field(min_length=1, max_length=120)] | None = Field(
        None, description=SESSION
    )
    new_session: bool = Field(False, description=NEW_SESSION)
    ttl_seconds: int | None = Field(None, ge=60, le=7 * 24 * 3600)


class PreviewOut(Schema):
    id: int
    session_id: int
    title: str
    url: str
    created_at: datetime
    expires_at: datetime


class ShareIn(Schema):
    recipient: PeoplesText = Field(
        min_length=1,
        max_length=RECIPIENT_NAME_MAX_LENGTH * 2,
        description="A name, or a name, a dash and a note: “Sam — climbing gym”",
    )
    channel: Channel = Channel.DM
    lives_with: bool = False


class TurnIn(ShareIn, PreviewIn):
    """A preview URL and a person: the turn in one request."""

    frameable: bool = Field(False, description="The preview may be shown in a frame.")


class ShareOut(Schema):
    id: int
    url: str
    token: str
    recipient: str
    day: date = Field(description="The builder-local day stamped on the share when it was sent.")
    recipient_note: str
    expires_at: datetime
    qr_svg: str


class TurnOut(ShareOut):
    preview_id: int
    session_id: int
    title: str
    session_match: Joined = Field(description=SESSION_MATCH)


class TodayOut(Schema):
    day: str = Field(
        description="The habit's today: the builder's local date, or the newest day a share is "
        "stamped with if that is later (after a move west or a later day start)."
    )
    local_day: str = Field(description="The builder's local date by the clock, in `time_zone`.")
    time_zone: str = Field(description="The builder's IANA zone; API times are UTC.")
    status: str
    current_streak: int
    best_streak: int
    habit_score: float


class ReactionOut(Schema):
    id: int
    text: str
    chip: str
    recipient: str
    recipient_note: str
    title: str
    share_token: str
    device_class: str
    counts: bool
    created_at: datetime

    @staticmethod
    def resolve_recipient(reaction: Reaction) -> str:
        return reaction.share.recipient.name

    @staticmethod
    def resolve_recipient_note(reaction: Reaction) -> str:
        return reaction.share.recipient.note

    @staticmethod
    def resolve_title(reaction: Reaction) -> str:
        return reaction.share.preview.session.title

    @staticmethod
    def resolve_share_token(reaction: Reaction) -> str:
        return reaction.share.token

    @staticmethod
    def resolve_counts(reaction: Reaction) -> bool:
        return reaction.is_counting


class EventOut(Schema):
    kind: str
    at: datetime
    device_class: str
    by_builder: bool
    in_person: bool = False
    text: str | None = None


class ShareDetailOut(ShareOut):
    title: str
    channel: str
    sent_at: datetime
    expired: bool
    fresh_link_requested_at: datetime | None
    events: list[EventOut]


class ErrorOut(Schema):
    error: str
    detail: object


ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def _preview_out(preview: Preview) -> dict:
    return {
        "id": preview.pk,
        "session_id": preview.session_id,
        "title": preview.session.title,
        "url": preview.url,
        "created_at": preview.created_at,
        "expires_at": preview.expires_at,
    }


def _share_out(share: Share) -> dict:
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


# Endpoints ---------------------------------------------------------------------------------


class Refused(Exception):
    """A request refused before anything is written: its status, code and sentence."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@api.exception_handler(Refused)
def on_refused(request, exc):
    return error(request, exc.status, exc.code, exc.detail)


def _valid_url(raw: str) -> str:
    """The URL as stored (`normalize_url`), or Refused (422 invalid_url) with the web form's
    words."""
    url = normalize_url(raw)
    try:
        validate_preview_url(url)
    except DjangoValidationError as exc:
        raise Refused(422, "invalid_url", " ".join(exc.messages)) from None
    return url


def _placement(request, url: str, payload: PreviewIn) -> Placement:
    """Where the preview goes (`sessions.placement`), or Refused: 422 for a session asked for
    together with a title or a new session, 404 for a session that isn't the builder's."""
    if payload.session_id is not None and payload.session is not None:
        raise Refused(422, "invalid_session", "Give session_id or session, not both.")
    asked = payload.session_id if payload.session_id is not None else payload.session
    try:
        return place_preview(
            request.user,
            url,
            title=payload.title or "",
            session=asked,
            new_session=payload.new_session,
        )
    except NoSuchSession as missing:
        raise Refused(404, "no_such_session", str(missing)) from None
    except ValueError as problem:
        raise Refused(422, "invalid_session", str(problem)) from None


@api.post("/previews", response={201: PreviewOut, **ERRORS}, summary="Create a preview")
@transaction.atomic
def create_preview(request, payload: PreviewIn):
    """A new preview of `url`, in the session `session_id` or `session` names; otherwise in
    your session of that `title`, or the one that already has this URL, or a new one (always
    a new one with `new_session`)."""
    url = _valid_url(payload.url)
    preview = _placement(request, url, payload).preview(
        request.user, reuse=False, ttl_seconds=payload.ttl_seconds
    )
    return Status(201, _preview_out(preview))


def _recipient(payload: ShareIn) -> tuple[str, str]:
    try:
        return name_and_note(payload.recipient)
    except ValueError as problem:
        raise Refused(422, "invalid", str(problem)) from None


@api.post("/shares", response={201: TurnOut, **ERRORS}, summary="Share a URL with one person")
def create_turn(request, payload: TurnIn):
    """Today's turn in one request, as the dashboard takes it: a link of `url` for one person.
    Everything is checked before anything is written, and it is all written in one
    transaction: a refused request leaves nothing behind. The session is found as for
    POST /previews; its live preview of the same URL is shared again (renewed if it expired)
    unless `ttl_seconds` asks for a new one of that lifetime."""
    url = _valid_url(payload.url)
    name, note = _recipient(payload)
    placement = _placement(request, url, payload)
    share = take_turn(
        request.user,
        placement,
        recipient_name=name,
        recipient_note=note,
        lives_with=payload.lives_with,
        channel=payload.channel,
        frameable=payload.frameable,
        ttl_seconds=payload.ttl_seconds,
    )
    session = share.preview.session
    return Status(
        201,
        {
            **_share_out(share),
            "preview_id": share.preview_id,
            "session_id": session.pk,
            "title": session.title,
            "session_match": placement.joined,
        },
    )


@api.post("/previews/{preview_id}/shares", response={201: ShareOut, **ERRORS}, summary="Share it")
@transaction.atomic
def create_share(request, preview_id: int, payload: ShareIn):
    """A link of this preview for one named person (created when new). An expired preview is
    renewed first, so the link always opens."""
    preview = get_object_or_404(
        Preview.objects.owned_by(request.user).select_related("session"), pk=preview_id
    )
    name, note = _recipient(payload)
    share = send_link(preview, name, payload.channel, note=note, lives_with=payload.lives_with)
    return Status(201, _share_out(share))


@api.get("/today", response={200: TodayOut, **ERRORS}, summary="Today's status and streak")
def today(request):
    habit = habit_for(request.user)
    return {
        "day": habit.today.isoformat(),
        "local_day": habit.local_day.isoformat(),
        "time_zone": habit.time_zone,
        "status": str(habit.today_state),
        "current_streak": habit.current_streak,
        "best_streak": habit.best_streak,
        "habit_score": round(habit.score, 4),
    }


@api.get("/reactions", response={200: list[ReactionOut], **ERRORS}, summary="Recent reactions")
@paginate(Pages)
def reactions(request, since: Moment | None = None):
    """Newest first; `since` (ISO 8601) keeps only reactions after that moment."""
    found = Reaction.objects.owned_by(request.user).select_related(
        "share__recipient", "share__preview__session"
    )
    if since is not None:
        found = found.filter(created_at__gt=since)
    return found.order_by("-created_at", "-id")


@api.get("/shares/{token}", response={200: ShareDetailOut, **ERRORS}, summary="One share")
def share_detail(request, token: Text):
    share = get_object_or_404(
        Share.objects.owned_by(request.user).select_related("recipient", "preview__session"),
        token=token,
    )
    events = [
        {
            "kind": visit.kind,
            "at": visit.at,
            "device_class": visit.device_class,
            "by_builder": visit.by_builder,
            "in_person": visit.via_qr,
        }
        for visit in share.visits.all()
    ] + [
        {
            "kind": "reaction",
            "at": reaction.created_at,
            "device_class": reaction.device_class,
            "by_builder": reaction.by_builder,
            "text": reaction.text,
        }
        for reaction in share.reactions.all()
    ]
    return {
        **_share_out(share),
        "title": share.preview.session.title,
        "channel": share.channel,
        "sent_at": share.sent_at,
        "expired": share.is_expired,
        "fresh_link_requested_at": share.fresh_link_requested_at,
        "events": sorted(events, key=lambda event: event["at"]),
    }
