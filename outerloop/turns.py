"""Today's turn: from a pasted URL and a name to a share, in one step."""

from django.db import transaction

from reactions.models import Share
from reactions.sharing import find_or_add_recipient, share_preview
from sessions.forms import title_from_url
from sessions.hosts import ascii_url
from sessions.models import BuildSession, Preview


def latest_preview(builder) -> Preview | None:
    return Preview.objects.latest_of(builder)


@transaction.atomic
def take_turn(
    builder,
    *,
    url: str,
    title: str,
    recipient_name: str,
    recipient_note: str = "",
    lives_with: bool,
    channel: str,
    frameable: bool = False,
) -> Share:
    """Reuse the latest preview when its URL was pasted again (fresh if it expired);
    otherwise log a new build session with this preview."""
    latest = latest_preview(builder)
    if latest is not None and ascii_url(latest.url) == ascii_url(url):
        preview = latest.fresh()
    else:
        session = BuildSession.objects.create(builder=builder, title=title or title_from_url(url))
        preview = session.add_preview(url, frameable=frameable)
    recipient = find_or_add_recipient(
        builder, recipient_name, note=recipient_note, lives_with=lives_with
    )
    return share_preview(preview, recipient, channel)
