"""Sending a link to a person: find or add the person, use a fresh preview, stamp the
builder's day, make the link. Its home is `reactions.sharing.send_link`, the one function
every way in calls: the dashboard's turn and POST /shares (and so the CLI) through
`outerloop.turns.take_turn`, a preview's "Get a link" and POST /previews/{id}/shares,
"Send again" and "Renew and send again"."""

from datetime import timedelta

import pytest
from django.urls import reverse

from outerloop.models import ApiToken
from reactions.models import Channel, Recipient, Share
from reactions.sharing import send_link
from sessions.models import BuildSession, Preview
from tests.conftest import NOW, PREVIEW_URL
from tests.factories import RecipientFactory
from tests.test_api import bearer_client, post
from tests.test_sharing import take_turn

# The recipe ----------------------------------------------------------------------------------


def test_a_new_name_adds_the_person_and_sends_them_a_link_stamped_with_today(owner, preview):
    share = send_link(preview, "Kim", Channel.TEXT, note="book club", lives_with=True)

    kim = Recipient.objects.get(name="Kim")
    assert (kim.builder, kim.note, kim.lives_with) == (owner, "book club", True)
    assert (share.recipient, share.preview, share.channel) == (kim, preview, Channel.TEXT)
    assert (share.sent_at, share.day) == (NOW, owner.today(NOW))


def test_a_known_name_in_any_letter_case_is_the_same_person(owner, preview, recipient):
    recipient.note = "climbing gym"
    recipient.lives_with = True
    recipient.save()

    share = send_link(preview, "sAM", Channel.DM)

    assert share.recipient == recipient
    recipient.refresh_from_db()
    assert (recipient.name, recipient.note, recipient.lives_with) == ("Sam", "climbing gym", True)
    assert Recipient.objects.count() == 1


def test_a_new_note_replaces_the_persons_note(preview, recipient):
    send_link(preview, "Sam", Channel.DM, note="bouldering")

    recipient.refresh_from_db()
    assert recipient.note == "bouldering"


def test_a_person_given_is_sent_the_link_as_they_are(owner, preview, recipient):
    share = send_link(preview, recipient, Channel.IN_PERSON)

    assert (share.recipient, share.channel) == (recipient, Channel.IN_PERSON)
    assert Recipient.objects.count() == 1


def test_a_live_preview_is_sent_as_it_is(preview, recipient):
    share = send_link(preview, recipient, Channel.DM)

    assert share.preview == preview
    assert Preview.objects.count() == 1


def test_an_expired_preview_is_renewed_and_the_persons_old_link_forwards_to_the_new(
    share, time_machine
):
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)

    fresh = send_link(share.preview, share.recipient, Channel.DM)

    assert fresh.preview != share.preview
    assert (fresh.preview.session, fresh.preview.url) == (share.preview.session, PREVIEW_URL)
    assert fresh.preview.expires_at == NOW + timedelta(hours=3)
    share.refresh_from_db()
    assert share.replaced_by == fresh


def test_another_builders_person_is_refused_and_nothing_is_written(preview, outsider, time_machine):
    theirs = RecipientFactory(builder=outsider, name="Sam")
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)

    with pytest.raises(ValueError, match="same builder's person"):
        send_link(preview, theirs, Channel.DM)

    assert list(Preview.objects.all()) == [preview]
    assert not Share.objects.exists()


# Every way in follows it -------------------------------------------------------------------------


def _turn(owner_client, api, share):
    owner_client.post(
        reverse("outerloop:turn"),
        {"url": PREVIEW_URL, "title": "", "recipient": "sAM", "channel": Channel.DM},
    )


def _session_page(owner_client, api, share):
    owner_client.post(
        reverse("reactions:share-create", args=[share.preview_id]),
        {"recipient": "sAM", "channel": Channel.DM},
    )


def _send_again(owner_client, api, share):
    owner_client.post(reverse("reactions:share-again", args=[share.recipient_id]))


def _renew(owner_client, api, share):
    owner_client.post(reverse("reactions:share-renew", args=[share.pk]))


def _api_turn(owner_client, api, share):
    assert post(api, "/shares", {"url": PREVIEW_URL, "recipient": "sAM"}).status_code == 201


def _api_share(owner_client, api, share):
    path = f"/previews/{share.preview_id}/shares"
    assert post(api, path, {"recipient": "sAM"}).status_code == 201


WAYS_IN = {
    "the dashboard's turn": _turn,
    "a preview's Get a link": _session_page,
    "Send again": _send_again,
    "Renew and send again": _renew,
    "POST /shares (the CLI)": _api_turn,
    "POST /previews/{id}/shares": _api_share,
}


@pytest.mark.parametrize("expired", [False, True], ids=["live", "expired"])
@pytest.mark.parametrize("way_in", WAYS_IN.values(), ids=WAYS_IN.keys())
def test_every_way_in_sends_the_same_person_a_fresh_preview_stamped_with_today(
    owner, owner_client, share, time_machine, way_in, expired
):
    api = bearer_client(ApiToken.issue(owner, "laptop CLI")[1])
    later = NOW + timedelta(hours=2 if expired else 0, minutes=10)
    time_machine.move_to(later, tick=False)

    way_in(owner_client, api, share)

    sent = Share.objects.exclude(pk=share.pk).get()
    renewed = expired or way_in is _renew
    assert sent.recipient == share.recipient
    assert (sent.preview == share.preview) is not renewed
    assert (sent.preview.session, sent.preview.url) == (share.preview.session, PREVIEW_URL)
    assert not sent.preview.is_expired
    assert (sent.sent_at, sent.day) == (later, owner.today(later))
    share.refresh_from_db()
    assert share.replaced_by == (sent if renewed else None)
    assert (Recipient.objects.count(), BuildSession.objects.count()) == (1, 1)


# As the builder sees it --------------------------------------------------------------------------


def test_pasting_the_latest_url_after_it_expired_shares_a_fresh_preview(
    owner_client, preview, time_machine
):
    later = NOW + timedelta(hours=2)
    time_machine.move_to(later, tick=False)

    take_turn(owner_client, url=PREVIEW_URL)

    share = Share.objects.get()
    assert share.preview != preview
    assert (share.preview.session, share.preview.url) == (preview.session, PREVIEW_URL)
    assert share.preview.expires_at == later + timedelta(hours=1)
    assert BuildSession.objects.count() == 1


def test_the_recipient_is_found_by_name_in_any_letter_case(owner_client, recipient):
    take_turn(owner_client, recipient="  sAM  ")

    assert Share.objects.get().recipient == recipient
    assert Recipient.objects.count() == 1


def test_another_builders_person_of_the_same_name_is_never_used(owner_client, owner, outsider):
    theirs = RecipientFactory(builder=outsider, name="Sam")

    take_turn(owner_client, recipient="Sam")

    mine = Share.objects.get().recipient
    assert mine != theirs
    assert mine.builder == owner


def test_lives_with_is_kept_on_a_new_person(owner_client):
    take_turn(owner_client, recipient="Kim", lives_with="on")

    assert Recipient.objects.get(name="Kim").lives_with


def test_lives_with_ticked_later_marks_an_existing_person(owner_client, recipient):
    take_turn(owner_client, recipient="sam", lives_with="on")

    recipient.refresh_from_db()
    assert recipient.lives_with


def test_sharing_an_expired_preview_shares_a_fresh_one_and_says_so(
    owner_client, preview, time_machine
):
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)

    response = owner_client.post(
        reverse("reactions:share-create", args=[preview.pk]),
        {"recipient": "Sam", "channel": Channel.DM},
        follow=True,
    )

    share = Share.objects.get()
    assert share.preview != preview
    assert share.preview.url == preview.url
    assert not share.preview.is_expired
    assert "That preview had expired, so this link is for a fresh one." in response.content.decode()


@pytest.mark.parametrize("expired", [False, True])
def test_a_failure_while_sharing_leaves_no_person_or_preview_behind(
    owner_client, preview, monkeypatch, time_machine, expired
):
    """The person, the fresh preview and the link are written together or not at all."""
    if expired:
        time_machine.move_to(NOW + timedelta(hours=2), tick=False)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("reactions.sharing.share_preview", fail)
    owner_client.raise_request_exception = False

    response = owner_client.post(
        reverse("reactions:share-create", args=[preview.pk]),
        {"recipient": "Kim — book club", "channel": Channel.DM},
    )

    assert response.status_code == 500
    assert not Recipient.objects.exists()
    assert list(Preview.objects.all()) == [preview]


@pytest.mark.parametrize("page", ["share-renew", "share-again"])
def test_a_failure_while_renewing_or_sending_again_leaves_no_fresh_preview_behind(
    owner_client, share, monkeypatch, time_machine, page
):
    """Renew and send again (a link's page) and Send again (People): the fresh preview and
    its link are written together or not at all."""
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("reactions.sharing.share_preview", fail)
    owner_client.raise_request_exception = False
    target = share.pk if page == "share-renew" else share.recipient_id

    response = owner_client.post(reverse(f"reactions:{page}", args=[target]))

    assert response.status_code == 500
    assert list(Preview.objects.all()) == [share.preview]
    assert list(Share.objects.all()) == [share]
