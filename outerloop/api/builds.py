"""POST /builds: a build folder, zipped, made a hosted preview at an origin of its own, and
shared with one person when `recipient` is given (`outerloop.turns.host_build`).

The upload streams to a temporary file (never into memory), and a body larger than a build
may be is refused before it is read (413)."""

from functools import wraps
from typing import Annotated

from django.http import JsonResponse
from ninja import File, Form, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from pydantic import Field

from outerloop import throttles
from outerloop.api.errors import ERRORS, ErrorOut, RateLimited, Refused
from outerloop.api.schemas import NEW_SESSION, SESSION, TITLE, PeoplesText, build_placement_for
from outerloop.api.sessions import PreviewOut, preview_out
from outerloop.api.shares import SESSION_MATCH, TurnOut, recipient_parts, turn_out
from outerloop.turns import host_build
from outerloop.uploads import largest_upload, spool_to_disk, too_large
from reactions.models import RECIPIENT_NAME_MAX_LENGTH, Channel
from sessions.builds import BuildRefused, zip_entries
from sessions.placement import Joined

router = Router()

NAME = (
    "What the build is called when neither `title` nor `session` is given: a new session is "
    "titled after it (a folder's name, or the folder above a generic one: “habit-tracker/dist” "
    "is “habit-tracker”). Left out, the zip's file name."
)


class BuildIn(Schema):
    """A build's placement and, optionally, its person: POST /previews' and POST /shares'
    fields, without the URL (a hosted preview gets an origin of its own)."""

    title: Annotated[PeoplesText, Field(max_length=120)] | None = Field(None, description=TITLE)
    session_id: int | None = Field(None, description="One of your sessions, by number.")
    session: Annotated[PeoplesText, Field(min_length=1, max_length=120)] | None = Field(
        None, description=SESSION
    )
    new_session: bool = Field(False, description=NEW_SESSION)
    ttl_seconds: int | None = Field(None, ge=60, le=7 * 24 * 3600)
    name: Annotated[PeoplesText, Field(max_length=255)] | None = Field(None, description=NAME)
    recipient: (
        Annotated[PeoplesText, Field(min_length=1, max_length=RECIPIENT_NAME_MAX_LENGTH * 2)] | None
    ) = Field(
        None,
        description="Left out, the preview is made and shared with nobody. A name, or a name, "
        "a dash and a note: “Sam — climbing gym”.",
    )
    channel: Channel = Channel.DM
    lives_with: bool = False
    frameable: bool = Field(False, description="The preview may be shown in a frame.")
    widget: bool = Field(
        True,
        description="Its pages carry a small “Tell <you> what you think” button that takes "
        "the person's reaction inside the preview and counts their taps, screens and time "
        "there. False serves the files exactly as uploaded.",
    )


class BuildOut(Schema):
    preview: PreviewOut
    session_match: Joined = Field(description=SESSION_MATCH)
    share: TurnOut | None = Field(description="The person's link, when `recipient` was given.")


def streamed_upload(run):
    """Around the operation, before its body is parsed: refuse a body over
    `outerloop.uploads.body_limit` (413, the API's error body) without reading it, and spool
    the file to disk (`spool_to_disk`)."""

    @wraps(run)
    def checked(request, *args, **kwargs):
        if too_large(request):
            return JsonResponse(
                {"error": "too_large", "detail": f"A build can be at most {largest_upload()}."},
                status=413,
            )
        spool_to_disk(request)
        return run(request, *args, **kwargs)

    return checked


@router.post(
    "/builds",
    response={201: BuildOut, 400: ErrorOut, 413: ErrorOut, **ERRORS},
    summary="Host a build",
)
@decorate_view(streamed_upload)
def create_build(request, file: File[UploadedFile], payload: Form[BuildIn]):
    """A build folder as a zip (`file`: `index.html` at its root or at the root of its only
    folder), hosted at an origin of its own for the preview's life. It goes into a session
    as POST /previews places a URL (without the URL: the session picked, a new one, the one of
    `title`, or a new one titled after `name`), and, with `recipient`, is shared as POST
    /shares shares it. Everything is checked before anything is kept: a refused upload (400,
    `build_refused`, saying what was wrong and what was found) or a body too large (413)
    leaves nothing behind. A builder may upload OUTERLOOP_HOSTED_UPLOADS_PER_HOUR builds an
    hour, refused ones included; past that, 429 (`rate_limited`) with Retry-After."""
    limit = throttles.upload_refused(request.user)
    if limit is not None:
        raise RateLimited(limit, throttles.message(throttles.UPLOAD_MESSAGE, limit))
    name, note = recipient_parts(payload.recipient) if payload.recipient else ("", "")
    placement = build_placement_for(request, payload.name or file.name or "", payload)
    try:
        hosted = host_build(
            request.user,
            placement,
            zip_entries(file),
            recipient_name=name,
            recipient_note=note,
            lives_with=payload.lives_with,
            channel=payload.channel,
            frameable=payload.frameable,
            ttl_seconds=payload.ttl_seconds,
            widget=payload.widget,
        )
    except BuildRefused as refused:
        raise Refused(400, "build_refused", refused.message) from None
    share = turn_out(hosted.share, placement.joined) if hosted.share is not None else None
    return Status(
        201,
        {
            "preview": preview_out(hosted.preview),
            "session_match": placement.joined,
            "share": share,
        },
    )
