"""A builder's page load that reuses the page's last render while nothing it shows changed
(`reactions.live.Kept`): the dashboard and the habit page."""

from django.http import HttpRequest

from common import changes
from outerloop.middleware import use_builders_zone
from reactions.live import Kept, kept_render


def builders_kept(request: HttpRequest) -> Kept:
    """`kept_render` for a page of the builder's that anything of theirs can change (their
    change version). On a load that renders, the builder's row is read again: it was loaded
    before the versions were, so a zone saved in between would otherwise be rendered old and
    kept under the new versions (one query)."""
    kept = kept_render(request, (changes.builder_key(request.user.pk),))
    if kept.html is None and kept.key is not None:
        request.user.refresh_from_db()
        use_builders_zone(request)
    return kept
