"""Sending a link to one person: POST /shares (the whole turn, `outerloop.turns.take_turn`)
and POST /previews/{id}/shares (a preview already made, `reactions.sharing`)."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from outerloop.api.errors import ERRORS, Refused
from outerloop.api.schemas import (
    PeoplesText,
    PreviewIn,
    ShareOut,
    placement_for,
    share_out,
    valid_url,
)
from outerloop.turns import take_turn
from reactions.models import RECIPIENT_NAME_MAX_LENGTH, Channel, name_and_note
from reactions.sharing import send_link
from sessions.models import BuildGone, Preview
from sessions.placement import Joined

router = Router()

SESSION_MATCH = (
    "How the session was found: `asked` (your `session`), `url` (it already had this URL), "
    "`title` (your session of that title) or `new`."
)


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


class TurnOut(ShareOut):
    preview_id: int
    session_id: int
    title: str
    session_match: Joined = Field(description=SESSION_MATCH)


def recipient_parts(recipient: str) -> tuple[str, str]:
    """`name_and_note` of what the builder typed, or Refused (422) with its sentence."""
    try:
        return name_and_note(recipient)
    except ValueError as problem:
        raise Refused(422, "invalid", str(problem)) from None


def turn_out(share, joined: Joined) -> dict:
    """`TurnOut`'s fields: the share (`share_out`), its preview and session, and how the
    session was found."""
    session = share.preview.session
    return {
        **share_out(share),
        "preview_id": share.preview_id,
        "session_id": session.pk,
        "title": session.title,
        "session_match": joined,
    }


@router.post("/shares", response={201: TurnOut, **ERRORS}, summary="Share a URL with one person")
def create_turn(request, payload: TurnIn):
    """Today's turn in one request, as the dashboard takes it: a link of `url` for one person.
    Everything is checked before anything is written, and it is all written in one
    transaction: a refused request leaves nothing behind. The session is found as for
    POST /previews; its live preview of the same URL is shared again (renewed if it expired)
    unless `ttl_seconds` asks for a new one of that lifetime."""
    url = valid_url(payload.url)
    name, note = recipient_parts(payload.recipient)
    placement = placement_for(request, url, payload)
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
    return Status(201, turn_out(share, placement.joined))


@router.post(
    "/previews/{preview_id}/shares", response={201: ShareOut, **ERRORS}, summary="Share it"
)
@transaction.atomic
def create_share(request, preview_id: int, payload: ShareIn):
    """A link of this preview for one named person (created when new). An expired preview is
    renewed first, so the link always opens."""
    preview = get_object_or_404(
        Preview.objects.owned_by(request.user).select_related("session"), pk=preview_id
    )
    name, note = recipient_parts(payload.recipient)
    try:
        share = send_link(preview, name, payload.channel, note=note, lives_with=payload.lives_with)
    except BuildGone as gone:
        raise Refused(409, "build_gone", str(gone)) from None
    return Status(201, share_out(share))
