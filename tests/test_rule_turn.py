"""The turn rule (DESIGN.md "Turn day"): a share is a turn once a reaction to it counts, and
a reaction counts unless it came from the builder's own browser, from someone they live
with, or the builder marked it polite or scripted. Its homes are in reactions/models.py:
`Reaction.why_not_counting` (and `is_counting`) on one reaction, `ReactionQuerySet.counting`
and `is_turn` in the database; every page, email and count reads one of them."""

from itertools import product

import pytest
from django.urls import reverse

from outerloop.habit import day_rows
from reactions.models import (
    FROM_HOUSEMATE,
    FROM_OWN_BROWSER,
    MARKED_NOT_COUNTING,
    Reaction,
    Share,
)
from tests.factories import ReactionFactory
from tests.test_dashboard import DASHBOARD, dashboard, react_as_sam, streaks, today_status

# (counts, by_builder, lives_with) → why it doesn't count ("" when it does).
CASES = {
    (counts, by_builder, lives_with): (
        FROM_OWN_BROWSER
        if by_builder
        else FROM_HOUSEMATE
        if lives_with
        else ""
        if counts
        else MARKED_NOT_COUNTING
    )
    for counts, by_builder, lives_with in product((True, False), repeat=3)
}


# The rule, in each of its forms ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "by_builder", "lives_with"), CASES, ids=lambda flag: "yes" if flag else "no"
)
def test_every_form_of_the_rule_says_the_same_of_each_reaction(
    owner, recipient, share, counts, by_builder, lives_with
):
    recipient.lives_with = lives_with
    recipient.save()
    reaction = ReactionFactory(share=share, counts=counts, by_builder=by_builder)
    why = CASES[counts, by_builder, lives_with]

    in_memory = Reaction.objects.select_related("share__recipient").get()
    assert in_memory.why_not_counting() == why
    assert in_memory.is_counting is (why == "")
    assert Reaction.objects.counting().filter(pk=reaction.pk).exists() is (why == "")
    assert Share.objects.with_turn().get().is_turn is (why == "")
    assert [row["turns"] for row in day_rows(owner)] == [1 if why == "" else 0]


def test_the_first_reason_is_the_one_given(recipient, share):
    recipient.lives_with = True
    recipient.save()

    reaction = ReactionFactory(share=share, counts=False, by_builder=True)

    assert reaction.why_not_counting() == "from your own browser"


def test_one_counting_reaction_makes_a_turn_among_any_that_dont(share):
    ReactionFactory(share=share, counts=False)
    ReactionFactory(share=share, by_builder=True)
    assert not Share.objects.with_turn().get().is_turn

    ReactionFactory(share=share)

    assert Share.objects.with_turn().get().is_turn
    assert Reaction.objects.counting().count() == 1


@pytest.mark.parametrize(("counts", "by_builder", "lives_with"), CASES)
def test_only_a_reaction_set_aside_by_the_builder_alone_can_be_taken_back(
    recipient, share, counts, by_builder, lives_with
):
    recipient.lives_with = lives_with
    recipient.save()

    reaction = ReactionFactory(share=share, counts=counts, by_builder=by_builder)

    assert reaction.is_marked_not_counting is (
        CASES[counts, by_builder, lives_with] == MARKED_NOT_COUNTING
    )


# As the builder sees it ------------------------------------------------------------------------


def assert_day_still_open(owner_client) -> None:
    assert Reaction.objects.count() == 1
    assert today_status(owner_client) == "Sent, waiting for a reaction"
    assert streaks(owner_client) == (0, 0)


def test_a_housemates_reaction_leaves_the_day_open(owner_client, recipient, share):
    recipient.lives_with = True
    recipient.save()

    react_as_sam(share, "Cute")

    assert_day_still_open(owner_client)
    assert "doesn't count: someone you live with" in dashboard(owner_client)


def test_the_builders_own_reaction_leaves_the_day_open(owner_client, share):
    owner_client.post(reverse("reactions:recipient-react", args=[share.token]), {"text": "Me"})

    assert_day_still_open(owner_client)
    assert "doesn't count: from your own browser" in dashboard(owner_client)


def test_a_reaction_marked_as_not_counting_reopens_the_day(owner_client, share):
    react_as_sam(share)
    assert today_status(owner_client) == "Closed: someone reacted"
    reaction = Reaction.objects.get()

    response = owner_client.post(
        reverse("reactions:reaction-counts", args=[reaction.pk]),
        {"counts": "0", "next": DASHBOARD},
    )

    assert response.url == DASHBOARD
    assert not Reaction.objects.get().counts
    assert_day_still_open(owner_client)
    assert "doesn't count: marked polite or scripted" in dashboard(owner_client)


def test_a_reaction_marked_polite_can_count_again(owner_client, share):
    reaction = ReactionFactory(share=share, counts=False)
    assert "It counts after all" in dashboard(owner_client)

    owner_client.post(
        reverse("reactions:reaction-counts", args=[reaction.pk]), {"counts": "1", "next": DASHBOARD}
    )

    reaction.refresh_from_db()
    assert reaction.counts
    assert today_status(owner_client) == "Closed: someone reacted"


def test_a_housemates_reaction_the_builder_also_marked_is_not_offered_to_count_again(
    owner_client, recipient, share
):
    recipient.lives_with = True
    recipient.save()
    ReactionFactory(share=share, counts=False)

    page = dashboard(owner_client)

    assert "doesn't count: someone you live with" in page
    assert "It counts after all" not in page
