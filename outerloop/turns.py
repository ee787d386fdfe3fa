"""Today's turn: from a pasted URL and a name to a share, in one step."""

from django.db import transaction

from reactions.models import Share
from reactions.sharing import send_link
from sessions.models import Preview
from sessions.placement import Placement


def latest_preview(builder) -> Preview | None:
    return Preview.objects.latest_of(builder)


@transaction.atomic
def take_turn(
    builder,
    placement: Placement,
    *,
    recipient_name: str,
    recipient_note: str = "",
    lives_with: bool,
    channel: str,
    frameable: bool = False,
    ttl_seconds: int | None = None,
) -> Share:
    """A link to `placement`'s preview for one named person, everything written in one
    transaction: the new session if any, the preview, the person if new, the share.

    `placement` comes from `sessions.placement.place_preview`, called before (it only reads,
    so the caller has checked everything by then). The session's preview of the same URL is
    shared again (fresh if it expired, as `send_link` sends every link); with no such
    preview, or with `ttl_seconds` (a lifetime in seconds of its own), a new preview is
    added. `recipient_name` and `recipient_note` are `name_and_note`'s parts, already
    checked. Returns the saved share."""
    preview = placement.preview(
        builder, reuse=ttl_seconds is None, frameable=frameable, ttl_seconds=ttl_seconds
    )
    return send_link(preview, recipient_name, channel, note=recipient_note, lives_with=lives_with)
