"""The builder's page for one link: a live link is offered to send and scan; a dead one never
is, and says how long ago things happened in words a person uses."""

import re
from datetime import timedelta
from html import unescape

from django.urls import reverse

from outerloop.models import ApiToken


def text_of(response) -> str:
    """The words a person reads: tags dropped, entities decoded, runs of space made one."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", response.content.decode())).split())


def share_page(client, share):
    return client.get(reverse("reactions:share-detail", args=[share.pk]))


def test_a_live_link_is_offered_to_copy_share_and_scan(owner_client, share):
    page = share_page(owner_client, share).content.decode()

    assert 'id="share-link"' in page
    assert "Share…" in page
    assert "In person? Let them scan it" in page and "<svg" in page


def test_an_expired_link_is_never_offered_and_renewing_is(owner_client, share, time_machine):
    time_machine.move_to(share.preview.expires_at + timedelta(minutes=5), tick=False)

    response = share_page(owner_client, share)
    page = response.content.decode()

    assert 'id="share-link"' not in page
    assert "Share…" not in page and "Copy</button>" not in page
    assert "<svg" not in page and "Let them scan it" not in page
    assert "This link's preview expired 5 minutes ago, so it no longer opens it." in (
        text_of(response)
    )
    assert reverse("reactions:share-renew", args=[share.pk]) in page


def test_a_fresh_link_asked_for_seconds_ago_was_asked_just_now(owner_client, share, time_machine):
    asked_at = share.preview.expires_at + timedelta(minutes=2)
    share.fresh_link_requested_at = asked_at
    share.save(update_fields=["fresh_link_requested_at"])

    time_machine.move_to(asked_at + timedelta(seconds=20), tick=False)
    assert "Sam asked for a fresh link just now:" in text_of(share_page(owner_client, share))
    assert "0 minutes" not in text_of(share_page(owner_client, share))

    time_machine.move_to(asked_at + timedelta(minutes=7), tick=False)
    assert "Sam asked for a fresh link 7 minutes ago:" in text_of(share_page(owner_client, share))
    renew = owner_client.get(reverse("reactions:share-renew", args=[share.pk]))
    assert "Sam asked for one 7 minutes ago." in text_of(renew)


def test_a_token_used_seconds_ago_was_used_just_now(owner_client, owner, time_machine):
    token, _ = ApiToken.issue(owner, "laptop CLI")
    token.last_used_at = token.created_at
    token.save(update_fields=["last_used_at"])

    assert "last used just now" in text_of(owner_client.get(reverse("outerloop:settings")))
