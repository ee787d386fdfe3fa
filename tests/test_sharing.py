"""Today's turn and the share page: from a pasted URL and a name to a link for one person."""

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from reactions.models import Channel, Recipient, Share
from reactions.qr import qr_svg
from sessions.models import BuildSession, Preview
from tests.conftest import NOW, PREVIEW_URL, SETTINGS_DEFAULTS
from tests.factories import ReactionFactory, ShareFactory

TUESDAY = date(2026, 3, 10)


def take_turn(client, *, follow: bool = False, **overrides):
    data = {
        "url": "https://recipes.example.dev/pantry",
        "title": "",
        "recipient": "Sam",
        "channel": Channel.DM,
        **overrides,
    }
    return client.post(reverse("outerloop:turn"), data, follow=follow)


def current_streak(client) -> int:
    page = client.get(reverse("outerloop:dashboard")).content.decode()
    return int(re.search(r'<strong id="current-streak">(\d+)</strong>', page)[1])


# Today's turn, from the dashboard ----------------------------------------------------------


def test_the_dashboard_form_is_prefilled_with_the_latest_preview(owner_client, preview):
    page = owner_client.get(reverse("outerloop:dashboard")).content.decode()

    assert f'value="{PREVIEW_URL.replace("&", "&amp;")}"' in page
    assert "Prefilled with your latest preview, “<bdi>Crag finder</bdi>”." in page


def test_a_new_url_logs_a_new_session_and_shares_it(owner_client, owner):
    response = take_turn(
        owner_client,
        url="recipes.example.dev/pantry",
        recipient="Sam — climbing gym",
        channel=Channel.TEXT,
    )

    share = Share.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("reactions:share-detail", args=[share.pk])
    assert share.preview.url == "https://recipes.example.dev/pantry"
    assert share.preview.session.builder == owner
    assert share.preview.session.title == "recipes.example.dev"
    assert share.preview.expires_at == NOW + timedelta(hours=1)
    assert (share.recipient.name, share.recipient.note) == ("Sam", "climbing gym")
    assert share.recipient.builder == owner
    assert share.channel == Channel.TEXT
    assert (share.sent_at, share.day) == (NOW, TUESDAY)


def test_a_title_names_the_new_session(owner_client):
    take_turn(owner_client, title="Recipe box, pantry view")

    assert BuildSession.objects.get().title == "Recipe box, pantry view"


@pytest.mark.parametrize("title", ["", "crag FINDER"])
def test_pasting_the_latest_preview_url_reuses_that_preview(owner_client, preview, title):
    """With no title, or its session's own title in any letter case."""
    take_turn(owner_client, url=PREVIEW_URL, title=title)

    assert Share.objects.get().preview == preview
    assert Preview.objects.count() == 1
    assert list(BuildSession.objects.values_list("title", flat=True)) == ["Crag finder"]


def test_a_url_already_in_an_older_session_joins_that_session(owner_client, owner, preview):
    """Issue 12: the same URL sent again after other work made a second session."""
    recipes = BuildSession.objects.create(builder=owner, title="Recipe box")
    recipes.add_preview("https://recipes.example.dev/")

    response = take_turn(owner_client, url=PREVIEW_URL, recipient="Kim", follow=True)

    share = Share.objects.get()
    assert share.preview == preview
    assert BuildSession.objects.count() == 2
    assert (
        "Added to your session “Crag finder”, which already has this URL. A new title starts "
        "a new session." in unescape(response.content.decode())
    )


@pytest.mark.parametrize(
    "typed",
    [
        "myapp.vercel.app",
        "https://myapp.vercel.app",
        "HTTPS://MyApp.Vercel.App/",
        "https://myapp.vercel.app:443",
    ],
)
def test_the_same_address_spelled_another_way_joins_its_session(owner_client, owner, typed):
    """Compared as `sessions.placement.url_key` says: scheme and host in any letter case, a
    default port, a trailing slash."""
    mine = BuildSession.objects.create(builder=owner, title="My app")
    first = mine.add_preview("https://myapp.vercel.app/")

    take_turn(owner_client, url=typed)

    assert Share.objects.get().preview == first
    assert BuildSession.objects.get() == mine


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("https://bücher.example/shop", "https://xn--bcher-kva.example/shop/"),
        ("https://xn--bcher-kva.example/shop", "https://BÜCHER.example/shop"),
    ],
)
def test_an_internationalised_host_in_either_spelling_joins_its_session(
    owner_client, owner, stored, typed
):
    shop = BuildSession.objects.create(builder=owner, title="Book shop")
    first = shop.add_preview(stored)

    take_turn(owner_client, url=typed)

    assert Share.objects.get().preview == first
    assert BuildSession.objects.get() == shop


@pytest.mark.parametrize(
    "other",
    [
        "http://myapp.vercel.app/",  # another scheme: a dev server answers one of them
        "https://myapp.vercel.app:8443/",
        "https://myapp.vercel.app/settings",
        "https://myapp.vercel.app/?v=2",
        "https://myapp.vercel.app.example.dev/",
    ],
)
def test_another_address_starts_a_new_session(owner_client, owner, other):
    mine = BuildSession.objects.create(builder=owner, title="My app")
    mine.add_preview("https://myapp.vercel.app/")

    take_turn(owner_client, url=other)

    assert Share.objects.get().preview.session != mine
    assert BuildSession.objects.count() == 2


def test_a_new_title_for_a_known_url_starts_a_new_session(owner_client, preview, session):
    take_turn(owner_client, url=PREVIEW_URL, title="Crag finder, map view")

    share = Share.objects.get()
    assert share.preview.session.title == "Crag finder, map view"
    assert share.preview.url == PREVIEW_URL
    assert share.preview != preview
    assert BuildSession.objects.count() == 2


def test_a_title_already_used_joins_that_session_with_the_new_url(owner_client, preview, session):
    response = take_turn(
        owner_client, url="https://crag-finder-v2.example.dev/", title="CRAG finder", follow=True
    )

    share = Share.objects.get()
    assert share.preview.session == session
    assert share.preview.url == "https://crag-finder-v2.example.dev/"
    assert BuildSession.objects.count() == 1
    assert "Added to your session “Crag finder”." in unescape(response.content.decode())


def test_the_form_says_how_its_session_is_found(owner_client):
    page = unescape(owner_client.get(reverse("outerloop:dashboard")).content.decode())

    assert (
        "Left empty, a URL you've sent before goes to its session. A title you've used goes "
        "to that session; a new title starts a new one." in page
    )


def test_the_title_is_not_prefilled_so_a_new_url_never_joins_the_latest_session(
    owner_client, preview
):
    page = owner_client.get(reverse("outerloop:dashboard")).content.decode()

    assert re.search(r'<input type="text" name="title"(?![^>]*value=)[^>]*>', page)


def test_a_turn_without_a_person_or_a_good_url_says_what_is_missing(owner_client, preview):
    response = take_turn(owner_client, url="javascript:alert(1)", recipient="   ")

    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert "Paste the preview's web address, starting with https:// (or http://)." in page
    assert "Name one person, e.g. “Sam — climbing gym”." in page
    assert not Share.objects.exists()
    assert Recipient.objects.count() == 0


def test_get_on_the_turn_url_goes_back_to_the_dashboard(owner_client):
    response = owner_client.get(reverse("outerloop:turn"))

    assert response.status_code == 302
    assert response.url == reverse("outerloop:dashboard")


# Sharing from a session's preview ----------------------------------------------------------


def test_sharing_a_preview_from_its_session_page(owner_client, preview, recipient):
    form = owner_client.get(reverse("reactions:share-create", args=[preview.pk]))
    assert "Who should see it?" in form.content.decode()

    response = owner_client.post(
        reverse("reactions:share-create", args=[preview.pk]),
        {"recipient": "SAM", "channel": Channel.IN_PERSON},
    )

    share = Share.objects.get()
    assert response.url == reverse("reactions:share-detail", args=[share.pk])
    assert (share.preview, share.recipient, share.channel) == (
        preview,
        recipient,
        Channel.IN_PERSON,
    )


def test_sharing_without_a_name_is_refused(owner_client, preview):
    response = owner_client.post(
        reverse("reactions:share-create", args=[preview.pk]), {"recipient": "", "channel": "dm"}
    )

    assert response.status_code == 400
    assert "Name one person, e.g. “Sam — climbing gym”." in response.content.decode()
    assert not Share.objects.exists()


# The share page ----------------------------------------------------------------------------


def test_the_share_page_shows_the_public_link_a_copy_button_and_a_qr_code(
    owner_client, share, settings
):
    settings.OUTERLOOP_BASE_URL = "https://loop.example.com"
    link = f"https://loop.example.com/r/{share.token}/"

    page = owner_client.get(reverse("reactions:share-detail", args=[share.pk])).content.decode()

    assert "Send it to <bdi>Sam</bdi>" in page
    assert f'<input id="share-link" type="text" value="{link}" readonly>' in page
    assert 'data-copy="share-link"' in page
    assert ">Copy</button>" in page
    assert '<svg role="img" class="qr"' in page
    assert f"<title>QR code for {link}</title>" in page
    assert qr_svg(f"{link}?via=qr", label=f"QR code for {link}") in page
    assert "<img" not in page


def test_a_share_token_is_long_random_and_url_safe(share):
    assert re.fullmatch(r"[A-Za-z0-9_-]+", share.token)
    assert len(share.token) * 6 >= 128  # each URL-safe base64 character carries 6 bits


@pytest.mark.django_db
def test_share_tokens_do_not_repeat():
    tokens = {share.token for share in ShareFactory.create_batch(200)}

    assert len(tokens) == 200


def test_the_database_refuses_a_duplicate_token(share):
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareFactory(token=share.token)


# The builder-local day ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent_at", "day"),
    [
        # 03:30 in Berlin, before a 4 a.m. day start: still Monday.
        (datetime(2026, 3, 10, 2, 30, tzinfo=UTC), date(2026, 3, 9)),
        # 04:00 in Berlin: Tuesday has begun.
        (datetime(2026, 3, 10, 3, 0, tzinfo=UTC), date(2026, 3, 10)),
        # 23:30 UTC on Monday is already 00:30 Tuesday in Berlin, but before 4 a.m.
        (datetime(2026, 3, 9, 23, 30, tzinfo=UTC), date(2026, 3, 9)),
    ],
)
def test_a_share_is_stamped_with_the_builders_own_day(
    owner_client, owner, time_machine, sent_at, day
):
    time_machine.move_to(datetime(2026, 3, 9, 12, 0, tzinfo=UTC), tick=False)
    owner.day_start_hour = 4  # set on Monday: a day start never moves the clock behind today
    owner.save()
    time_machine.move_to(sent_at, tick=False)

    take_turn(owner_client)

    assert Share.objects.get().day == day


@pytest.mark.parametrize("new_zone", ["Pacific/Kiritimati", "Pacific/Honolulu"])
def test_changing_time_zone_later_rewrites_neither_days_nor_the_streak(
    owner_client, owner, recipient, time_machine, new_zone
):
    monday = ShareFactory(recipient=recipient, sent_at=NOW - timedelta(days=1))
    tuesday = ShareFactory(recipient=recipient, sent_at=NOW)
    ReactionFactory(share=monday)
    ReactionFactory(share=tuesday)
    assert (monday.day, tuesday.day) == (date(2026, 3, 9), TUESDAY)
    assert current_streak(owner_client) == 2

    owner_client.post(
        reverse("outerloop:settings"),
        {**SETTINGS_DEFAULTS, "time_zone": new_zone},
    )

    owner.refresh_from_db()
    assert owner.time_zone == new_zone
    assert list(Share.objects.order_by("sent_at").values_list("day", flat=True)) == [
        date(2026, 3, 9),
        TUESDAY,
    ]
    assert current_streak(owner_client) == 2


@pytest.mark.parametrize("url", ["", "ftp://files.example.dev/app"])
def test_a_refused_url_isnt_called_the_latest_preview(owner_client, share, url):
    """The field now holds what the builder typed, not the prefilled latest preview."""
    latest = owner_client.get(reverse("outerloop:dashboard")).content.decode()
    assert "Prefilled with your latest preview" in latest

    response = take_turn(owner_client, url=url)

    assert response.status_code == 400  # the form again, with its error
    assert "Prefilled with your latest preview" not in response.content.decode()
