"""Renaming, merging and deleting sessions, previews, links and people: each page says what
the change does to the streak, and the change then does exactly that.

Alex's history (`streak`): nine closed days, Fri 20 to Sat 28 Feb (the best streak), three
missed days, then six closed days, Wed 4 to Mon 9 Mar (the current streak); today is
Tue 10 Mar, still open. Every turn is a link to Sam with Sam's reaction.
"""

from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import strip_tags

from outerloop.habit import habit_for
from reactions.models import Reaction, Recipient, RemovedLink, Share, Visit, VisitKind
from sessions.models import BuildSession, Preview, PublishRequest
from tests.conftest import PHONE_UA
from tests.factories import ReactionFactory, RecipientFactory, ShareFactory

FEBRUARY = [date(2026, 2, day) for day in range(20, 29)]
MARCH = [date(2026, 3, day) for day in range(4, 10)]
TODAY = date(2026, 3, 10)


def sent_on(preview: Preview, person: Recipient, day: date, *, reacted: bool = True) -> Share:
    """A link sent at 11:00 Berlin time on `day` and, when `reacted`, answered an hour later."""
    sent = datetime.combine(day, time(10), tzinfo=UTC)
    share = ShareFactory(preview=preview, recipient=person, sent_at=sent)
    Visit.objects.create(share=share, kind=VisitKind.OPEN, at=sent + timedelta(minutes=30))
    if reacted:
        ReactionFactory(share=share, created_at=sent + timedelta(hours=1))
    return share


@pytest.fixture
def streak(owner, session, preview, recipient) -> SimpleNamespace:
    boulder = BuildSession.objects.create(builder=owner, title="Boulder log")
    march_preview = boulder.add_preview("https://boulder-log.example.dev/")
    february = {day: sent_on(preview, recipient, day) for day in FEBRUARY}
    march = {day: sent_on(march_preview, recipient, day) for day in MARCH}
    habit = habit_for(owner)
    assert (habit.current_streak, habit.best_streak) == (6, 9)
    return SimpleNamespace(
        crag=session, boulder=boulder, march_preview=march_preview, february=february, march=march
    )


def text_of(response) -> str:
    """The page as a person reads it: no tags, entities decoded, one space between words."""
    return " ".join(unescape(strip_tags(response.content.decode())).split())


def page(client: Client, name: str, *args, **query) -> str:
    url = reverse(name, args=args)
    response = client.get(url, query)
    assert response.status_code == 200, response.status_code
    return text_of(response)


def streaks(builder) -> tuple[int, int]:
    habit = habit_for(builder)
    return habit.current_streak, habit.best_streak


def everything() -> dict[str, list]:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (BuildSession, Preview, Recipient, Share, Reaction, Visit, RemovedLink)
    }


# Deleting a link ---------------------------------------------------------------------------


def test_deleting_a_days_only_turn_says_the_streak_drops_and_it_does(owner, owner_client, streak):
    share = streak.march[date(2026, 3, 5)]
    before = everything()

    confirm = page(owner_client, "outerloop:share-delete", share.pk)

    assert (
        "Your streak goes from 6 to 4 days: Thu 5 Mar loses its only turn and counts as missed."
        in confirm
    )
    assert "Your best streak stays 9 days." in confirm
    assert "The link, with 1 visit and 1 reaction" in confirm
    assert everything() == before  # saying what would happen changed nothing

    response = owner_client.post(reverse("outerloop:share-delete", args=[share.pk]), follow=True)

    assert "Deleted the link for Sam." in text_of(response)
    assert not Share.objects.filter(pk=share.pk).exists()
    assert not Reaction.objects.filter(share_id=share.pk).exists()
    assert not Visit.objects.filter(share_id=share.pk).exists()
    assert RemovedLink.objects.get().token == share.token
    assert streaks(owner) == (4, 9)


def test_deleting_one_of_two_turns_on_a_day_leaves_the_streak_as_it_was(
    owner, owner_client, streak, preview
):
    second = sent_on(preview, RecipientFactory(builder=owner, name="Noor"), date(2026, 3, 6))

    confirm = page(owner_client, "outerloop:share-delete", second.pk)

    assert "Your streak stays 6 days: Fri 6 Mar goes from 2 to 1 turns and stays closed." in confirm
    assert "Your best streak stays 9 days." in confirm
    owner_client.post(reverse("outerloop:share-delete", args=[second.pk]))
    assert streaks(owner) == (6, 9)
    assert habit_for(owner).turns_by_day[date(2026, 3, 6)] == 1


def test_deleting_todays_only_link_says_today_has_nothing_sent(
    owner, owner_client, streak, preview, recipient
):
    waiting = sent_on(preview, recipient, TODAY, reacted=False)

    confirm = page(owner_client, "outerloop:share-delete", waiting.pk)

    assert "Your streak stays 6 days." in confirm
    assert "Today has nothing sent any more." in confirm
    owner_client.post(reverse("outerloop:share-delete", args=[waiting.pk]))
    assert habit_for(owner).today_state == "nothing_sent"


def test_deleting_a_link_still_waiting_for_a_reaction_can_break_the_streak(
    owner, owner_client, streak, preview, recipient
):
    """Yesterday's turn is gone; a day that waits neither adds nor breaks, a missed one breaks."""
    share = streak.march[date(2026, 3, 9)]
    Reaction.objects.filter(share=share).delete()  # Monday's link still waits for Sam
    assert streaks(owner) == (5, 9)

    confirm = page(owner_client, "outerloop:share-delete", share.pk)

    assert (
        "Your streak goes from 5 to 0 days: Mon 9 Mar no longer waits for a reaction and "
        "counts as missed." in confirm
    )


# Deleting a preview, a session ---------------------------------------------------------------


def test_deleting_a_session_lists_every_day_it_costs(owner, owner_client, streak):
    boulder = streak.boulder
    PublishRequest.objects.create(preview=streak.march_preview, domain="boulder.example.com")

    confirm = page(owner_client, "outerloop:session-delete", boulder.pk)

    assert "Your streak goes from 6 to 0 days." in confirm
    assert "Wed 4 Mar to Mon 9 Mar, 6 days: each loses its only turn and counts as missed." in (
        confirm
    )
    assert "Your best streak stays 9 days." in confirm
    assert "The session and its 1 preview, with 1 publish request" in confirm
    assert "6 links you sent, to Sam, with 6 visits and 6 reactions" in confirm

    response = owner_client.post(reverse("outerloop:session-delete", args=[boulder.pk]))

    assert response.url == reverse("sessions:session-list")
    assert not BuildSession.objects.filter(pk=boulder.pk).exists()
    assert not Preview.objects.filter(session_id=boulder.pk).exists()
    assert not PublishRequest.objects.exists()
    assert Share.objects.count() == len(FEBRUARY)
    assert Reaction.objects.count() == len(FEBRUARY)
    assert RemovedLink.objects.count() == len(MARCH)
    assert streaks(owner) == (0, 9)


def test_deleting_the_best_run_says_the_best_streak_drops(owner, owner_client, streak, preview):
    confirm = page(owner_client, "outerloop:preview-delete", preview.pk)

    assert "Your streak stays 6 days." in confirm
    assert "Your best streak goes from 9 to 6 days." in confirm
    assert "Fri 20 Feb to Sat 28 Feb, 9 days: each loses its only turn and counts as missed." in (
        confirm
    )
    assert "9 links you sent, to Sam" in confirm

    response = owner_client.post(reverse("outerloop:preview-delete", args=[preview.pk]))

    assert response.url == reverse("sessions:session-detail", args=[preview.session_id])
    assert not Preview.objects.filter(pk=preview.pk).exists()
    assert BuildSession.objects.filter(pk=preview.session_id).exists()  # the session stays
    assert streaks(owner) == (6, 6)


@pytest.mark.django_db(transaction=True)
def test_the_confirmation_rolls_its_dry_run_back_in_a_real_transaction(owner, owner_client, streak):
    """Outside a test's own transaction, as in production: the savepoint is the transaction."""
    partner = RecipientFactory(builder=owner, name="Kim", lives_with=True)
    before = everything()

    page(owner_client, "outerloop:session-delete", streak.boulder.pk)
    sam = Recipient.objects.get(name="Sam")
    page(owner_client, "outerloop:person-merge", sam.pk, into=partner.pk)

    assert everything() == before
    assert streaks(owner) == (6, 9)


def test_a_preview_never_sent_costs_nothing(owner, owner_client, streak, session):
    unsent = session.add_preview("https://crag-finder.example.dev/v2")

    confirm = page(owner_client, "outerloop:preview-delete", unsent.pk)

    assert "No link: it was never sent to anyone" in confirm
    assert "Your streak stays 6 days." in confirm


# Merging -------------------------------------------------------------------------------------


def test_merging_a_person_into_one_who_lives_with_you_says_their_turns_stop_counting(
    owner, owner_client, streak, recipient, preview
):
    partner = RecipientFactory(builder=owner, name="Kim", lives_with=True)
    sent_on(preview, partner, date(2026, 3, 2))  # Kim's reaction never counted

    picker = page(owner_client, "outerloop:person-merge", recipient.pk)
    assert "Kim" in picker and "lives with you" in picker
    confirm = page(owner_client, "outerloop:person-merge", recipient.pk, into=partner.pk)

    assert "Kim lives with you, so the reactions on Sam's links stop counting" in confirm
    assert "Your streak goes from 6 to 0 days." in confirm
    assert "Your best streak goes from 9 to 0 days." in confirm
    assert "Fri 20 Feb to Sat 28 Feb, 9 days: each loses its only turn" in confirm
    assert "Wed 4 Mar to Sun 8 Mar, 5 days: each loses its only turn and counts as missed." in (
        confirm
    )
    # Monday's link is a day old: without a counting reaction, it waits for one again.
    assert "Mon 9 Mar loses its only turn and waits for a reaction again." in confirm

    response = owner_client.post(
        reverse("outerloop:person-merge", args=[recipient.pk]), {"into": partner.pk}
    )

    assert response.url == reverse("reactions:people")
    assert not Recipient.objects.filter(pk=recipient.pk).exists()
    assert Share.objects.filter(recipient=partner).count() == len(FEBRUARY) + len(MARCH) + 1
    assert streaks(owner) == (0, 0)


def test_merging_someone_marked_as_living_with_you_into_one_who_doesnt_says_turns_count(
    owner, owner_client, streak, recipient, preview
):
    marked = RecipientFactory(builder=owner, name="Sam K.", lives_with=True)
    sent_on(preview, marked, date(2026, 3, 3))  # fills the gap before Wed 4 Mar

    confirm = page(owner_client, "outerloop:person-merge", marked.pk, into=recipient.pk)

    assert "after the merge, the reactions on Sam K.'s links count toward your streak" in confirm
    assert "Your streak goes from 6 to 7 days: Tue 3 Mar gains a turn and is closed." in confirm
    owner_client.post(reverse("outerloop:person-merge", args=[marked.pk]), {"into": recipient.pk})
    assert streaks(owner) == (7, 9)
    assert not Recipient.objects.get(pk=recipient.pk).lives_with


def test_merging_sam_typed_two_ways_keeps_every_day_and_the_note(
    owner, owner_client, streak, recipient, preview
):
    twin = RecipientFactory(builder=owner, name="Sam K.", note="climbing gym")
    moved = sent_on(preview, twin, date(2026, 3, 6))
    RecipientFactory(builder=owner, name="Noor")

    picker = page(owner_client, "outerloop:person-merge", twin.pk)
    assert picker.index("Sam") < picker.index("same first name") < picker.index("Noor")
    confirm = page(owner_client, "outerloop:person-merge", twin.pk, into=recipient.pk)

    assert "The link you sent to Sam K., with its reaction, becomes Sam's." in confirm
    assert "Sam keeps their name and takes the note “climbing gym”" in confirm
    assert "Your streak stays 6 days: Fri 6 Mar goes from 2 to 1 turns" not in confirm
    assert "Your streak stays 6 days." in confirm
    assert "lives with you" not in confirm

    owner_client.post(reverse("outerloop:person-merge", args=[twin.pk]), {"into": recipient.pk})

    moved.refresh_from_db()
    assert (moved.recipient_id, moved.day) == (recipient.pk, date(2026, 3, 6))
    assert Recipient.objects.get(pk=recipient.pk).note == "climbing gym"
    assert not Recipient.objects.filter(pk=twin.pk).exists()
    assert streaks(owner) == (6, 9)


def test_merging_sessions_moves_previews_and_keeps_the_streak(owner, owner_client, streak):
    duplicate = BuildSession.objects.create(builder=owner, title="boulder log", notes="Dark mode")
    BuildSession.objects.filter(pk=streak.boulder.pk).update(notes="First screen")
    moved = duplicate.add_preview("https://boulder-log.example.dev/")
    share = sent_on(moved, Recipient.objects.get(name="Sam"), TODAY)

    BuildSession.objects.create(builder=owner, title="BOULDER LOG")

    picker = page(owner_client, "outerloop:session-merge", duplicate.pk)
    # The likely duplicates first: the session of the same address, then of the same name.
    assert "Boulder log same address" in picker and "BOULDER LOG same name" in picker
    assert picker.index("same name") < picker.index("Crag finder")
    assert picker.index("same address") < picker.index("Crag finder")
    confirm = page(owner_client, "outerloop:session-merge", duplicate.pk, into=streak.boulder.pk)

    assert "Its 1 preview and 1 link move to Boulder log." in confirm
    assert "Your streak stays 7 days." in confirm  # today's turn, wherever its session is

    response = owner_client.post(
        reverse("outerloop:session-merge", args=[duplicate.pk]), {"into": streak.boulder.pk}
    )

    assert response.url == reverse("sessions:session-detail", args=[streak.boulder.pk])
    assert not BuildSession.objects.filter(pk=duplicate.pk).exists()
    assert Preview.objects.get(pk=moved.pk).session_id == streak.boulder.pk
    assert Share.objects.get(pk=share.pk).day == TODAY
    boulder = BuildSession.objects.get(pk=streak.boulder.pk)
    assert (boulder.title, boulder.notes) == ("Boulder log", "First screen\n\nDark mode")
    assert streaks(owner) == (7, 9)


# Renaming ------------------------------------------------------------------------------------


def test_renaming_a_session_says_the_streak_stays_and_renames_it(owner, owner_client, streak):
    confirm = page(owner_client, "outerloop:session-rename", streak.boulder.pk)
    assert "Your streak stays 6 days." in confirm

    response = owner_client.post(
        reverse("outerloop:session-rename", args=[streak.boulder.pk]),
        {"title": "  Boulder\u202e log 2  "},
        follow=True,
    )

    assert "Renamed to “Boulder log 2”." in text_of(response)
    assert BuildSession.objects.get(pk=streak.boulder.pk).title == "Boulder log 2"
    assert streaks(owner) == (6, 9)


def test_a_session_needs_a_name(owner_client, session):
    response = owner_client.post(reverse("outerloop:session-rename", args=[session.pk]), {})

    assert response.status_code == 400
    assert "Rename Crag finder" in text_of(response)
    assert BuildSession.objects.get(pk=session.pk).title == "Crag finder"


def test_renaming_a_person_keeps_their_links(owner, owner_client, streak, recipient):
    confirm = page(owner_client, "outerloop:person-rename", recipient.pk)
    assert "Your streak stays 6 days." in confirm

    owner_client.post(
        reverse("outerloop:person-rename", args=[recipient.pk]),
        {"name": "Samira", "note": "climbing gym"},
    )

    recipient.refresh_from_db()
    assert (recipient.name, recipient.note) == ("Samira", "climbing gym")
    assert recipient.shares.count() == len(FEBRUARY) + len(MARCH)
    assert streaks(owner) == (6, 9)


def test_renaming_to_a_name_already_taken_offers_the_merge(owner, owner_client, recipient):
    twin = RecipientFactory(builder=owner, name="Sam K.")
    url = reverse("outerloop:person-rename", args=[twin.pk])

    response = owner_client.post(url, {"name": "sam", "note": ""})

    assert response.status_code == 400
    text = text_of(response)
    assert "You already have Sam. If they are the same person, merge them instead." in text
    merge = reverse("outerloop:person-merge", args=[twin.pk]) + f"?into={recipient.pk}"
    assert f'href="{merge}"' in unescape(response.content.decode())
    assert Recipient.objects.get(pk=twin.pk).name == "Sam K."
    # Only the letter case of their own name: that's still them.
    assert owner_client.post(url, {"name": "sam k.", "note": ""}).status_code == 302


# The person holding a deleted link ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "reactions:recipient-page"),
        ("get", "reactions:recipient-thanks"),
        ("get", "reactions:recipient-go"),
        ("post", "reactions:recipient-react"),
        ("post", "reactions:recipient-seen"),
        ("post", "reactions:recipient-fresh"),
    ],
)
def test_a_deleted_link_says_plainly_it_was_removed_and_nothing_else(
    owner_client, sam, share, method, name
):
    ReactionFactory(share=share, text="Sam liked the big button")
    owner_client.post(reverse("outerloop:share-delete", args=[share.pk]))

    url = reverse(name, args=[share.token])
    response = sam.post(url, {"text": "Hello?"}) if method == "post" else sam.get(url)

    assert response.status_code == 410
    text = text_of(response)
    assert "This link was removed by the person who sent it." in text
    for private in ("Alex", "Crag finder", "crag-finder", "Sam", "big button"):
        assert private not in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert not Reaction.objects.exists()


def test_a_link_that_never_was_is_still_nothing_here(sam, share):
    response = sam.get(reverse("reactions:recipient-page", args=["x" * 32]))

    assert response.status_code == 404
    assert "Nothing here" in text_of(response)


# Who may ---------------------------------------------------------------------------------------


@pytest.fixture
def alex_and_riley(owner, outsider, session, preview, share, recipient):
    """Alex's things, and Riley's own session and person to merge into."""
    riley_session = BuildSession.objects.create(builder=outsider, title="Riley's app")
    riley_person = RecipientFactory(builder=outsider, name="Sam")
    return {
        "session": session,
        "preview": preview,
        "share": share,
        "recipient": recipient,
        "riley_session": riley_session,
        "riley_person": riley_person,
    }


EDITS = [
    ("outerloop:session-rename", "session", {"title": "Mine now"}),
    ("outerloop:session-merge", "session", {}),
    ("outerloop:session-delete", "session", {}),
    ("outerloop:preview-delete", "preview", {}),
    ("outerloop:share-delete", "share", {}),
    ("outerloop:person-rename", "recipient", {"name": "Mallory", "note": ""}),
    ("outerloop:person-merge", "recipient", {}),
]


@pytest.mark.parametrize(("name", "kind", "data"), EDITS, ids=[name for name, _, _ in EDITS])
def test_another_builder_gets_a_404_for_every_edit_and_changes_nothing(
    outsider_client, alex_and_riley, name, kind, data
):
    url = reverse(name, args=[alex_and_riley[kind].pk])
    before = everything()

    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, data).status_code == 404
    assert everything() == before


@pytest.mark.parametrize(
    ("name", "kind", "into"),
    [
        ("outerloop:session-merge", "session", "riley_session"),
        ("outerloop:person-merge", "recipient", "riley_person"),
    ],
)
def test_nobody_merges_into_another_builders_things_or_into_itself(
    owner_client, alex_and_riley, name, kind, into
):
    url = reverse(name, args=[alex_and_riley[kind].pk])
    before = everything()

    for target in (alex_and_riley[into].pk, alex_and_riley[kind].pk, "1e3", "٣", "9" * 40):
        assert owner_client.get(url, {"into": target}).status_code == 404
        assert owner_client.post(url, {"into": target}).status_code == 404
    assert everything() == before


@pytest.mark.parametrize(("name", "kind", "data"), EDITS, ids=[name for name, _, _ in EDITS])
def test_every_edit_needs_the_csrf_token(owner, alex_and_riley, name, kind, data):
    browser = Client(enforce_csrf_checks=True, headers={"User-Agent": PHONE_UA})
    browser.force_login(owner)
    before = everything()

    response = browser.post(reverse(name, args=[alex_and_riley[kind].pk]), data)

    assert response.status_code == 403
    assert everything() == before


# What the pages cost -------------------------------------------------------------------------

# Before and after: the habit twice, what goes (or moves), the dry run and its rollback.
# A deletion's dry run costs one query more for the links a deleted one renewed
# (`Share.replaced_by` is set to NULL on them), however many there are, and one for what
# people did inside hosted previews (`InAppActivity`, deleted with its links).
CONFIRMATIONS = [
    ("outerloop:session-delete", "session", {}, 27),
    ("outerloop:preview-delete", "preview", {}, 25),
    ("outerloop:share-delete", "share", {}, 20),
    ("outerloop:session-merge", "session", {"into": "boulder"}, 15),
    ("outerloop:person-merge", "person", {"into": "recipient"}, 16),
    ("outerloop:session-rename", "session", {}, 4),
    ("outerloop:person-rename", "person", {}, 4),
]


@pytest.mark.parametrize(
    ("name", "kind", "query", "budget"), CONFIRMATIONS, ids=[c[0] for c in CONFIRMATIONS]
)
def test_a_confirmation_costs_a_few_queries_however_much_goes(
    owner, owner_client, streak, preview, django_assert_max_num_queries, name, kind, query, budget
):
    twin = RecipientFactory(builder=owner, name="Sam K.")
    sent_on(preview, twin, date(2026, 3, 2))
    things = {
        "session": streak.crag,
        "preview": preview,
        "share": streak.february[FEBRUARY[0]],
        "person": twin,
        "boulder": streak.boulder,
        "recipient": Recipient.objects.get(name="Sam"),
    }
    url = reverse(name, args=[things[kind].pk])
    params = {key: things[value].pk for key, value in query.items()}
    with django_assert_max_num_queries(budget):
        assert owner_client.get(url, params).status_code == 200

    for day in MARCH:  # more links, visits and reactions on everything the page looks at
        sent_on(preview, twin, day)
        Visit.objects.create(share=streak.february[FEBRUARY[0]], kind=VisitKind.RETURN)
    with django_assert_max_num_queries(budget):
        assert owner_client.get(url, params).status_code == 200


def test_a_rename_with_a_dash_is_refused_because_sending_would_split_it(
    owner, owner_client, recipient
):
    """Renamed to "Sam — gym", the dashboard would read "Sam" and a note, and never find them."""
    response = owner_client.post(
        reverse("outerloop:person-rename", args=[recipient.pk]), {"name": "Sam — gym", "note": ""}
    )

    assert response.status_code == 400
    assert "Put only the name here" in unescape(response.content.decode())
    assert Recipient.objects.get(pk=recipient.pk).name == "Sam"


def test_merging_someone_never_sent_a_link_says_no_link_moves(owner, owner_client, recipient):
    twin = RecipientFactory(builder=owner, name="Sam K.")

    confirm = page(owner_client, "outerloop:person-merge", twin.pk, into=recipient.pk)

    assert "You sent Sam K. no link, so no link moves." in confirm
    assert "0 links" not in confirm


def test_deleting_a_session_never_sent_says_so_without_counting_links(owner, owner_client):
    empty = BuildSession.objects.create(builder=owner, title="Empty")

    response = owner_client.post(reverse("outerloop:session-delete", args=[empty.pk]), follow=True)

    assert "Deleted “Empty”." in unescape(response.content.decode())
    assert "0 links" not in unescape(response.content.decode())
