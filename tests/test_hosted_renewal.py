"""Renewing a hosted preview: the same build at a new origin while its files are kept; once
the sweep deleted them, a plain refusal instead of a link that would serve nothing."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from common.builders import Builder
from outerloop.models import ApiToken
from reactions.models import Channel, Share
from reactions.sharing import send_link
from sessions.models import BuildGone, Preview
from tests.hosted import write_build


@pytest.fixture
def expired_share(owner, session, time_machine, now) -> Share:
    build = write_build(owner, {"index.html": b"<!doctype html><p>Crag finder</p>"})
    share = send_link(Preview.hosting(session, build), "Sam", Channel.DM)
    time_machine.move_to(now + timedelta(hours=2), tick=False)
    return share


def delete_files(share: Share) -> None:
    build = share.preview.build
    build.deleted_at = timezone.now()
    build.save(update_fields=["deleted_at"])


def test_renew_and_send_again_serves_the_same_build_at_a_new_origin(owner_client, expired_share):
    response = owner_client.post(reverse("reactions:share-renew", args=[expired_share.pk]))

    fresh = Share.objects.exclude(pk=expired_share.pk).get()
    assert response.url == reverse("reactions:share-detail", args=[fresh.pk])
    assert fresh.preview.build == expired_share.preview.build
    assert fresh.preview.host != expired_share.preview.host
    assert not fresh.preview.is_expired


def test_a_build_whose_files_are_gone_cant_be_renewed(expired_share):
    delete_files(expired_share)

    with pytest.raises(BuildGone, match="Upload the build again"):
        expired_share.preview.renew()


def test_renew_and_send_again_says_the_files_are_gone(owner_client, expired_share):
    delete_files(expired_share)

    response = owner_client.post(
        reverse("reactions:share-renew", args=[expired_share.pk]), follow=True
    )

    assert "files were deleted 7 days after its last preview ended" in response.content.decode()
    assert Share.objects.count() == 1 and Preview.objects.count() == 1


def test_send_again_from_people_says_the_files_are_gone(owner_client, expired_share):
    delete_files(expired_share)

    response = owner_client.post(
        reverse("reactions:share-again", args=[expired_share.recipient_id]), follow=True
    )

    assert "Upload the build again to send a fresh link." in response.content.decode()
    assert Share.objects.count() == 1


def test_the_api_refuses_a_share_of_a_build_whose_files_are_gone(owner, expired_share):
    delete_files(expired_share)
    _, raw = ApiToken.issue(Builder.objects.get(pk=owner.pk), "laptop")
    client = Client(headers={"Authorization": f"Bearer {raw}"})

    response = client.post(
        f"/api/v1/previews/{expired_share.preview_id}/shares",
        {"recipient": "Noa", "channel": "dm"},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json()["error"] == "build_gone"
    assert Share.objects.count() == 1
