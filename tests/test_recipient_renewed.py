"""A renewed link forwards: the person holds the old link, and it takes them to the live one.

Alex's link to Sam expires; Alex renews it ("Renew and send again", or a fresh preview of the
same URL sent to Sam again). Sam taps the link they already have and lands on the live page,
so Alex needn't message them again. Only Sam's own renewals are followed: Jo, who got the
same preview, never lands on Sam's link.
"""

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from reactions.models import Channel, Share, Visit, VisitKind
from reactions.sharing import find_or_add_recipient, share_preview
from tests.conftest import NOW, PHONE_UA

HOUR = timedelta(hours=1)


def page_url(share: Share) -> str:
    return reverse("reactions:recipient-page", args=[share.token])


def renew(owner_client: Client, share: Share) -> Share:
    """Alex presses "Renew and send again" on `share`'s page: the new link."""
    response = owner_client.post(reverse("reactions:share-renew", args=[share.pk]))
    return Share.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[-1])


@pytest.fixture
def expired(share, time_machine) -> Share:
    time_machine.move_to(NOW + HOUR, tick=False)
    return share


def test_an_expired_link_renewed_for_the_same_person_forwards_to_the_live_one(
    sam, expired, owner_client
):
    fresh = renew(owner_client, expired)

    response = sam.get(page_url(expired))

    assert response.status_code == 302
    assert response["Location"] == page_url(fresh)
    page = unescape(sam.get(response["Location"]).content.decode())
    assert "Open <bdi>Crag finder</bdi>" in page
    assert "This preview has expired." not in page


def test_the_forwarded_visit_is_an_open_of_the_live_link(sam, expired, owner_client):
    fresh = renew(owner_client, expired)

    landed = sam.get(page_url(expired), follow=True).request["PATH_INFO"]
    sam.post(landed + "seen/")  # what the page it landed on confirms

    assert list(Visit.objects.values_list("share", "kind")) == [(fresh.pk, VisitKind.OPEN)]


def test_the_builder_is_told_the_old_link_forwards(expired, owner_client):
    page = owner_client.get(reverse("reactions:share-renew", args=[expired.pk]))
    response = owner_client.post(reverse("reactions:share-renew", args=[expired.pk]), follow=True)

    assert "already has will forward to it" in unescape(page.content.decode())
    assert "The link they have now forwards to it" in unescape(response.content.decode())


def test_the_old_links_page_says_where_it_forwards_instead_of_offering_to_renew_again(
    sam, expired, owner_client
):
    page_of = reverse("reactions:share-detail", args=[expired.pk])
    sam.post(reverse("reactions:recipient-fresh", args=[expired.token]))
    before = unescape(owner_client.get(page_of).content.decode())
    fresh = renew(owner_client, expired)

    after = unescape(owner_client.get(page_of).content.decode())

    assert "Renew and send again" in before
    assert "forwards to" not in before
    assert "It forwards to the fresh link you sent <bdi>Sam</bdi> just now" in after
    assert f'href="{reverse("reactions:share-detail", args=[fresh.pk])}">See that link' in after
    assert "Renew and send again" not in after


def test_a_fresh_preview_from_the_session_page_sent_again_to_the_same_person_forwards(
    sam, expired, owner_client
):
    owner_client.post(reverse("sessions:preview-renew", args=[expired.preview.pk]))
    renewed = expired.preview.session.previews.exclude(pk=expired.preview.pk).get()
    owner_client.post(
        reverse("reactions:share-create", args=[renewed.pk]),
        {"recipient": "sam", "channel": Channel.TEXT},
    )
    fresh = Share.objects.get(preview=renewed)

    assert sam.get(page_url(expired))["Location"] == page_url(fresh)


def test_a_link_renewed_twice_forwards_to_the_newest_live_link(
    sam, expired, owner_client, time_machine
):
    second = renew(owner_client, expired)
    time_machine.move_to(NOW + 2 * HOUR + timedelta(minutes=1), tick=False)
    third = renew(owner_client, second)

    assert sam.get(page_url(expired))["Location"] == page_url(third)
    assert sam.get(page_url(second))["Location"] == page_url(third)
    assert sam.get(page_url(third)).status_code == 200


def test_deleting_the_middle_renewal_keeps_the_oldest_link_forwarding_to_the_newest(
    sam, expired, owner_client, time_machine
):
    second = renew(owner_client, expired)
    time_machine.move_to(NOW + 2 * HOUR + timedelta(minutes=1), tick=False)
    third = renew(owner_client, second)

    owner_client.post(reverse("outerloop:share-delete", args=[second.pk]))

    assert not Share.objects.filter(pk=second.pk).exists()
    assert sam.get(page_url(expired))["Location"] == page_url(third)
    assert sam.get(page_url(second))["Location"] == page_url(third)  # its tombstone forwards


def test_deleting_the_only_renewal_leaves_the_old_link_on_its_expired_page(
    sam, expired, owner_client
):
    fresh = renew(owner_client, expired)

    owner_client.post(reverse("outerloop:share-delete", args=[fresh.pk]))

    response = sam.get(page_url(expired))
    assert response.status_code == 200
    assert "Ask for a fresh link" in unescape(response.content.decode())


def test_while_two_renewals_are_live_the_newest_one_wins(sam, expired, owner_client):
    second = renew(owner_client, expired)
    third = renew(owner_client, expired)  # pressed again on the first link's page

    assert sam.get(page_url(expired))["Location"] == page_url(third)
    assert sam.get(page_url(second)).status_code == 200  # still live: no forwarding yet


def test_a_link_renewed_before_it_expired_works_until_then_and_forwards_after(
    sam, share, owner_client, time_machine
):
    time_machine.move_to(NOW + timedelta(minutes=30), tick=False)
    fresh = renew(owner_client, share)

    assert sam.get(page_url(share)).status_code == 200

    time_machine.move_to(NOW + HOUR, tick=False)
    assert sam.get(page_url(share))["Location"] == page_url(fresh)


def test_when_the_renewal_expired_too_the_old_link_shows_the_expired_page(
    sam, expired, owner_client, time_machine
):
    renew(owner_client, expired)
    time_machine.move_to(NOW + 3 * HOUR, tick=False)

    response = sam.get(page_url(expired))

    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "This preview has expired." in page
    assert "Ask for a fresh link" in page


def test_a_qr_scan_of_the_old_link_is_still_marked_as_one(sam, expired, owner_client):
    fresh = renew(owner_client, expired)

    response = sam.get(page_url(expired), {"via": "qr"})

    assert response["Location"] == page_url(fresh) + "?via=qr"


def test_the_old_links_open_button_goes_to_the_live_links_page(sam, expired, owner_client):
    fresh = renew(owner_client, expired)

    response = sam.get(reverse("reactions:recipient-go", args=[expired.token]))

    assert response["Location"] == page_url(fresh)
    assert not Visit.objects.exists()


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_asking_the_old_link_for_a_fresh_one_takes_them_to_it_and_tells_nobody(
    sam, expired, owner_client, outbox, htmx, django_capture_on_commit_callbacks
):
    fresh = renew(owner_client, expired)

    with django_capture_on_commit_callbacks(execute=True):
        response = sam.post(
            reverse("reactions:recipient-fresh", args=[expired.token]),
            headers={"HX-Request": "true"} if htmx else {},
        )

    if htmx:
        assert response["HX-Redirect"] == page_url(fresh)
    else:
        assert response["Location"] == page_url(fresh)
    expired.refresh_from_db()
    assert expired.fresh_link_requested_at is None
    assert outbox == []


# Never another person's link ---------------------------------------------------------------


@pytest.fixture
def jos_link(expired, owner) -> Share:
    """Alex sent the same preview to Jo too; it expired with Sam's."""
    return share_preview(expired.preview, find_or_add_recipient(owner, "Jo"), Channel.DM)


def test_a_renewal_for_sam_never_forwards_jos_link(sam, expired, jos_link, owner_client):
    sams = renew(owner_client, expired)

    response = sam.get(page_url(jos_link))

    assert response.status_code == 200
    page = response.content.decode()
    assert sams.token not in page
    assert "Ask for a fresh link" in unescape(page)
    jos_link.refresh_from_db()
    assert jos_link.replaced_by is None


def test_each_person_is_forwarded_to_their_own_renewal(sam, expired, jos_link, owner_client):
    sams = renew(owner_client, expired)
    jos = renew(owner_client, jos_link)

    assert sam.get(page_url(expired))["Location"] == page_url(sams)
    assert sam.get(page_url(jos_link))["Location"] == page_url(jos)


def test_a_replacement_pointing_at_another_persons_link_is_not_followed(
    sam, expired, jos_link, owner_client
):
    jos = renew(owner_client, jos_link)
    Share.objects.filter(pk=expired.pk).update(replaced_by=jos)  # by hand, e.g. in the admin

    response = sam.get(page_url(expired))

    assert response.status_code == 200
    assert jos.token not in response.content.decode()


def test_another_url_in_the_same_session_is_not_a_renewal(sam, expired, owner):
    other = expired.preview.session.add_preview("https://crag-finder.example.dev/v2")
    share_preview(other, expired.recipient, Channel.DM)

    assert sam.get(page_url(expired)).status_code == 200
    expired.refresh_from_db()
    assert expired.replaced_by is None


def test_a_second_link_to_the_same_preview_replaces_nothing(share, owner):
    second = share_preview(share.preview, share.recipient, Channel.TEXT)

    share.refresh_from_db()
    second.refresh_from_db()
    assert (share.replaced_by, second.replaced_by) == (None, None)


# What it costs -------------------------------------------------------------------------------


def test_forwarding_costs_the_link_and_one_query_for_its_renewals(
    expired, owner_client, django_assert_num_queries
):
    renew(owner_client, expired)
    renew(owner_client, expired)
    sam = Client(headers={"User-Agent": PHONE_UA})

    with django_assert_num_queries(2):
        response = sam.get(page_url(expired))

    assert response.status_code == 302


def test_deleting_the_old_link_after_renewing_keeps_it_forwarding_and_says_so(
    sam, expired, owner_client
):
    """Renewing said there was no need to send it again, so the old link is all Sam has."""
    fresh = renew(owner_client, expired)
    confirm = unescape(
        owner_client.get(reverse("outerloop:share-delete", args=[expired.pk])).content.decode()
    )

    owner_client.post(reverse("outerloop:share-delete", args=[expired.pk]))

    assert "opens it, they go on to the newer link that renewed it, which stays." in confirm
    assert sam.get(page_url(expired))["Location"] == page_url(fresh)
    assert sam.get(page_url(expired) + "go/")["Location"] == page_url(fresh) + "go/"
    assert sam.post(page_url(expired) + "react/", {"text": "Nice"}).status_code == 410


def test_deleting_a_link_and_its_renewal_together_leaves_nothing_to_forward_to(
    sam, expired, owner_client
):
    renew(owner_client, expired)
    confirm = unescape(
        owner_client.get(
            reverse("outerloop:preview-delete", args=[expired.preview_id])
        ).content.decode()
    )
    owner_client.post(reverse("outerloop:session-delete", args=[expired.preview.session_id]))

    assert "go on to the newer link" not in confirm
    assert sam.get(page_url(expired)).status_code == 410


@pytest.mark.django_db(transaction=True)
def test_a_reaction_sent_while_its_link_is_being_deleted_reads_the_removed_page(
    sam, share, monkeypatch
):
    """The builder's delete commits between the request finding the link and the reaction's
    insert: Sam reads that the link was removed, not a server error."""
    from reactions import activity, recipient
    from reactions.removal import delete_share

    def deleted_meanwhile(request, found, *args, **kwargs):
        delete_share(found)
        return activity.record_reaction(request, found, *args, **kwargs)

    monkeypatch.setattr(recipient, "record_reaction", deleted_meanwhile)
    response = sam.post(
        page_url(share) + "react/", {"text": "Nice grade filter", "idempotency_key": "k" * 32}
    )

    assert response.status_code == 410
    assert "removed" in unescape(response.content.decode())
    assert not Share.objects.exists()
