"""POST /previews: a preview of a URL, in the session it belongs to (`sessions.placement`)."""

from datetime import datetime

from django.db import transaction
from ninja import Router, Schema, Status

from outerloop.api.errors import ERRORS
from outerloop.api.schemas import PreviewIn, placement_for, valid_url
from sessions.models import Preview

router = Router()


class PreviewOut(Schema):
    id: int
    session_id: int
    title: str
    url: str
    created_at: datetime
    expires_at: datetime


def preview_out(preview: Preview) -> dict:
    return {
        "id": preview.pk,
        "session_id": preview.session_id,
        "title": preview.session.title,
        "url": preview.url,
        "created_at": preview.created_at,
        "expires_at": preview.expires_at,
    }


@router.post("/previews", response={201: PreviewOut, **ERRORS}, summary="Create a preview")
@transaction.atomic
def create_preview(request, payload: PreviewIn):
    """A new preview of `url`, in the session `session_id` or `session` names; otherwise in
    your session of that `title`, or the one that already has this URL, or a new one (always
    a new one with `new_session`)."""
    url = valid_url(payload.url)
    preview = placement_for(request, url, payload).preview(
        request.user, reuse=False, ttl_seconds=payload.ttl_seconds
    )
    return Status(201, preview_out(preview))
