"""What came back: GET /reactions (newest first) and GET /shares/{token} (one share with
everything that happened to it, visits and reactions in time order)."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from outerloop.api.errors import ERRORS
from outerloop.api.schemas import Moment, Pages, ShareOut, Text, share_out
from reactions.models import Reaction, Share

router = Router()


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


@router.get("/reactions", response={200: list[ReactionOut], **ERRORS}, summary="Recent reactions")
@paginate(Pages)
def reactions(request, since: Moment | None = None):
    """Newest first; `since` (ISO 8601) keeps only reactions after that moment."""
    found = Reaction.objects.owned_by(request.user).select_related(
        "share__recipient", "share__preview__session"
    )
    if since is not None:
        found = found.filter(created_at__gt=since)
    return found.order_by("-created_at", "-id")


@router.get("/shares/{token}", response={200: ShareDetailOut, **ERRORS}, summary="One share")
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
        **share_out(share),
        "title": share.preview.session.title,
        "channel": share.channel,
        "sent_at": share.sent_at,
        "expired": share.is_expired,
        "fresh_link_requested_at": share.fresh_link_requested_at,
        "events": sorted(events, key=lambda event: event["at"]),
    }
