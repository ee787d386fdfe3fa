"""Today's turn: from a pasted URL, or an uploaded build, and a name to a share, in one step."""

from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.db import transaction

from reactions.models import Share
from reactions.sharing import send_link
from sessions.builds import Entry, delete_build_files, page_title, store_build
from sessions.models import HostedBuild, Preview
from sessions.placement import Joined, Placement, is_generic_title


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
    build: HostedBuild | None = None,
    widget: bool = True,
) -> Share:
    """A link to `placement`'s preview for one named person, everything written in one
    transaction: the new session if any, the preview, the person if new, the share.

    `placement` comes from `sessions.placement.place_preview` (or `place_build` with `build`),
    called before (it only reads, so the caller has checked everything by then). The
    session's preview of the same URL is shared again (fresh if it expired, as `send_link`
    sends every link); with no such preview, or with `ttl_seconds` (a lifetime in seconds of
    its own), a new preview is added. With `build` (a stored upload, `host_build`), the
    preview is always a new hosted one of it, with the reaction button inside unless `widget`
    is False. `recipient_name` and `recipient_note` are
    `name_and_note`'s parts, already checked. Returns the saved share."""
    if build is not None:
        preview = placement.hosted_preview(
            builder, build, frameable=frameable, ttl_seconds=ttl_seconds, widget=widget
        )
    else:
        preview = placement.preview(
            builder, reuse=ttl_seconds is None, frameable=frameable, ttl_seconds=ttl_seconds
        )
    return send_link(preview, recipient_name, channel, note=recipient_note, lives_with=lives_with)


@dataclass(frozen=True)
class Hosted:
    """An uploaded build made a preview (`host_build`): the preview, and its share when the
    turn named a person."""

    preview: Preview
    share: Share | None


def host_build(
    builder,
    placement: Placement,
    entries: Iterable[Entry],
    *,
    recipient_name: str = "",
    recipient_note: str = "",
    lives_with: bool = False,
    channel: str = "",
    frameable: bool = False,
    ttl_seconds: int | None = None,
    widget: bool = True,
) -> Hosted:
    """Today's turn from a build instead of a URL: the one path of the API's POST /builds,
    the CLI's `outerloop share ./dist` and `outerloop preview ./dist`, and the dashboard's
    upload.

    1. The files (`entries`: `sessions.builds.zip_entries` or `upload_entries`) are stored
       as a `HostedBuild` (`store_build`, which checks every limit while reading and raises
       `BuildRefused`, leaving nothing behind).
    2. In one transaction: the new session if any (`placement`, from `place_build`, called
       before), a new hosted preview of the build at an origin of its own, and, with a
       `recipient_name`, that person's link (`take_turn`'s, through `send_link`). Without
       one, the preview is made and shared with nobody.
    If the transaction fails, the stored build and its files are deleted too: a refused turn
    leaves nothing. `channel` is a `Channel` (needed with `recipient_name`)."""
    build = store_build(builder, entries)
    if placement.joined is Joined.NEW and is_generic_title(placement.title):
        # "dist", "build", "Uploaded build": the page's own <title> says what it is.
        placement = replace(placement, title=page_title(build) or placement.title)
    try:
        with transaction.atomic():
            if recipient_name:
                share = take_turn(
                    builder,
                    placement,
                    recipient_name=recipient_name,
                    recipient_note=recipient_note,
                    lives_with=lives_with,
                    channel=channel,
                    frameable=frameable,
                    ttl_seconds=ttl_seconds,
                    build=build,
                    widget=widget,
                )
                return Hosted(share.preview, share)
            preview = placement.hosted_preview(
                builder, build, frameable=frameable, ttl_seconds=ttl_seconds, widget=widget
            )
            return Hosted(preview, None)
    except BaseException:
        delete_build_files(build)
        build.delete()
        raise
