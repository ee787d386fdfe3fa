"""The recipient's side, as Sam sees it: no account, one page, one button, one box."""

from html import escape, unescape

import pytest
from django.test import Client
from django.urls import reverse

from reactions.models import Chip, DeviceClass, Reaction, Share, Visit
from tests.factories import ReactionFactory, ShareFactory

SCRIPT = "<script>alert('sam')</script>"
EMPTY = "Write a few words first: what did you notice?"


def page_url(share: Share) -> str:
    return reverse("reactions:recipient-page", args=[share.token])


def go_url(share: Share) -> str:
    return reverse("reactions:recipient-go", args=[share.token])


def react_url(share: Share) -> str:
    return reverse("reactions:recipient-react", args=[share.token])


def fresh_url(share: Share) -> str:
    return reverse("reactions:recipient-fresh", args=[share.token])


def text_of(response) -> str:
    return unescape(response.content.decode())


def view(client: Client, share: Share, **beacon: str) -> None:
    """What a real browser does: load the page, then the page confirms it is open."""
    client.get(page_url(share), {"via": beacon["via"]} if "via" in beacon else {})
    client.post(reverse("reactions:recipient-seen", args=[share.token]), beacon)


def visits(share: Share) -> list[str]:
    return list(share.visits.order_by("at", "id").values_list("kind", flat=True))


# The page ----------------------------------------------------------------------------------


def test_the_page_says_who_built_what_and_links_the_open_button_through_us(sam, share):
    response = sam.get(page_url(share))

    assert response.status_code == 200
    page = text_of(response)
    assert "<bdi>Alex</bdi> built something and would like your reaction." in page
    assert "<h1><bdi>Crag finder</bdi></h1>" in page
    assert (
        f'<a class="btn open-btn" href="{go_url(share)}" target="_blank" '
        f'rel="noopener noreferrer">Open <bdi>Crag finder</bdi></a>'
    ) in page
    assert "What do you think? In your own words." in page
    assert "Send to <bdi>Alex</bdi>" in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_page_never_contains_the_preview_url(sam, share):
    page = sam.get(page_url(share)).content.decode()

    assert "crag-finder.example.dev" not in page
    assert "crag-finder.example.dev" not in unescape(page)


def test_the_page_does_not_show_the_builders_private_notes(sam, share):
    assert "one big button" not in text_of(sam.get(page_url(share)))


# Reactions ---------------------------------------------------------------------------------


def test_a_plain_post_saves_the_reaction_and_shows_a_thank_you_page(sam, share):
    response = sam.post(
        react_url(share), {"text": "The big button is great.", "chip": Chip.LOVE}, follow=True
    )

    reaction = Reaction.objects.get()
    assert (reaction.share, reaction.text, reaction.chip) == (
        share,
        "The big button is great.",
        Chip.LOVE,
    )
    assert reaction.device_class == DeviceClass.PHONE
    assert reaction.counts
    assert not reaction.by_builder
    assert reaction.builder == share.recipient.builder
    assert response.redirect_chain == [
        (reverse("reactions:recipient-thanks", args=[share.token]), 302)
    ]
    page = text_of(response)
    assert "<h1>Thank you!</h1>" in page
    assert "<bdi>Alex</bdi> will read what you wrote about <bdi>Crag finder</bdi>." in page


def test_an_htmx_post_saves_the_reaction_and_swaps_in_a_thank_you(sam, share):
    response = sam.post(
        react_url(share), {"text": "Confusing start screen"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    fragment = text_of(response)
    assert "<h2>Thank you!</h2>" in fragment
    assert "<bdi>Alex</bdi> will read this: “<bdi>Confusing start screen</bdi>”" in fragment
    assert "<html" not in fragment
    assert Reaction.objects.get().text == "Confusing start screen"


def test_the_builders_own_reaction_is_marked_as_theirs(owner_client, share):
    owner_client.post(react_url(share), {"text": "Testing my own link"})

    assert Reaction.objects.get().by_builder


def test_a_reaction_of_exactly_two_thousand_characters_is_accepted(sam, share):
    sam.post(react_url(share), {"text": "y" * 2000})

    assert len(Reaction.objects.get().text) == 2000


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", EMPTY),
        ("   \n\t  ", EMPTY),
        ("\x07\x1b\u200b", EMPTY),
        ("x" * 2001, "That's 2,001 characters; please keep it under 2,000."),
        ("word " * 1000, "That's 4,999 characters; please keep it under 2,000."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_an_empty_or_oversized_reaction_says_why_and_keeps_the_text(
    sam, share, typed, message, htmx
):
    headers = {"HX-Request": "true"} if htmx else {}

    response = sam.post(react_url(share), {"text": typed}, headers=headers)

    assert response.status_code == (200 if htmx else 400)
    page = response.content.decode()
    assert escape(message) in page
    assert f">\n{escape(typed)}</textarea>" in page
    assert not Reaction.objects.exists()


def test_an_invalid_reaction_keeps_the_chosen_chip(sam, share):
    response = sam.post(react_url(share), {"text": "", "chip": Chip.CONFUSED})

    assert 'value="confused" id="id_chip_1" data-starter="Confused — " checked' in (
        response.content.decode()
    )


@pytest.mark.parametrize("text", ["", "Love it — ", "Love it!", "  love it  "])
def test_a_chip_alone_is_not_a_reaction_and_the_page_says_so(sam, share, text):
    """The chips start a sentence ("Start with one of these"); the form asks for the rest."""
    response = sam.post(react_url(share), {"text": text, "chip": Chip.LOVE})

    assert response.status_code == 400
    assert "“Love it”, and why? Add a few words of your own." in text_of(response)
    assert not Reaction.objects.exists()


def test_a_chip_starts_the_sentence_the_person_finishes(sam, share):
    sam.post(react_url(share), {"text": "Love it — the map is so clear", "chip": Chip.LOVE})

    reaction = Reaction.objects.get()
    assert (reaction.text, reaction.chip) == ("Love it — the map is so clear", Chip.LOVE)


def test_the_page_says_the_chips_start_a_sentence(sam, share):
    page = text_of(sam.get(reverse("reactions:recipient-page", args=[share.token])))

    assert "Start with one of these (optional)" in page
    assert "Then say why, in a few words of your own." in page
    assert "Or start with" not in page


def test_control_characters_are_stripped_from_a_reaction(sam, share):
    sam.post(react_url(share), {"text": " Nice\x00 one\x07\u202e!\r\nReally\x1b[1m good\t:) "})

    assert Reaction.objects.get().text == "Nice one!\nReally[1m good\t:)"


def test_a_reaction_with_markup_is_escaped_everywhere_it_is_shown(
    sam, share, owner_client, time_machine
):
    thanks = sam.post(react_url(share), {"text": SCRIPT}, headers={"HX-Request": "true"})
    share_page = owner_client.get(reverse("reactions:share-detail", args=[share.pk]))
    dashboard = owner_client.get(reverse("outerloop:dashboard"))

    assert Reaction.objects.get().text == SCRIPT
    for response in (thanks, share_page, dashboard):
        content = response.content.decode()
        assert SCRIPT not in content
        assert escape(SCRIPT) in content


def test_oversized_markup_is_escaped_in_the_kept_text(sam, share):
    typed = SCRIPT + "x" * 2000

    page = sam.post(react_url(share), {"text": typed}).content.decode()

    assert SCRIPT not in page
    assert escape(SCRIPT) in page


# What this browser said --------------------------------------------------------------------

YOU_SAID = '<h2 id="said-heading">You said</h2>'


def thanks_url(share: Share) -> str:
    return reverse("reactions:recipient-thanks", args=[share.token])


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_after_a_reaction_a_reload_shows_what_they_said_and_a_form_to_add_more(sam, share, htmx):
    sam.post(  # without the page's script, the chip doesn't start the words
        react_url(share),
        {"text": "The map\nis clear", "chip": Chip.LOVE},
        headers={"HX-Request": "true"} if htmx else {},
    )

    page = text_of(sam.get(page_url(share)))

    assert YOU_SAID in page
    assert '<span class="pill">Love it</span> “<bdi>The map\nis clear</bdi>”' in page
    assert "Anything to add? Write it below." in page
    assert 'id="reaction" class="card" method="post"' in page  # the form, empty, below it
    assert ">\n</textarea>" in page


def test_a_chip_already_starting_the_words_is_not_said_twice(sam, share):
    sam.post(react_url(share), {"text": "Love it — the map is clear", "chip": Chip.LOVE})

    page = text_of(sam.get(page_url(share)))

    assert '<p class="quote">“<bdi>Love it — the map is clear</bdi>”</p>' in page
    assert '<span class="pill">' not in page


def test_a_second_reaction_is_said_too_and_every_word_is_shown(sam, share):
    long_words = "x" * 1990 + " the end"
    sam.post(react_url(share), {"text": "First thought"})
    sam.post(react_url(share), {"text": long_words})

    page = text_of(sam.get(page_url(share)))

    assert page.index("“<bdi>First thought</bdi>”") < page.index(f"“<bdi>{long_words}</bdi>”")
    assert Reaction.objects.count() == 2


def test_the_thank_you_page_shows_what_they_said(sam, share):
    response = sam.post(react_url(share), {"text": "Great big button"}, follow=True)

    page = text_of(response)
    assert response.redirect_chain == [(thanks_url(share), 302)]
    assert YOU_SAID in page
    assert "“<bdi>Great big button</bdi>”" in page


def test_another_browser_sees_the_empty_form(sam, share, client):
    sam.post(react_url(share), {"text": "Only Sam's phone knows"})

    page = text_of(client.get(page_url(share)))

    assert YOU_SAID not in page
    assert "Only Sam's phone knows" not in page


def test_what_was_said_on_one_link_never_shows_on_another(sam, share, owner, preview):
    jo = ShareFactory(recipient__builder=owner, preview=preview)
    sam.post(react_url(share), {"text": "Said on Sam's link"})

    # The test client sends every cookie to every path: as if the cookie were copied over.
    page = text_of(sam.get(page_url(jo)))

    assert YOU_SAID not in page
    assert "Said on Sam's link" not in page


def test_a_forged_said_cookie_shows_nothing(sam, share):
    ReactionFactory(share=share, text="Someone else's words")
    sam.cookies["ol_said"] = str(Reaction.objects.get().pk)

    page = text_of(sam.get(page_url(share)))

    assert YOU_SAID not in page
    assert "Someone else's words" not in page


def test_the_page_costs_one_query_more_for_what_was_said(sam, share, django_assert_num_queries):
    with django_assert_num_queries(1):
        sam.get(page_url(share))
    sam.post(react_url(share), {"text": "One"})
    sam.post(react_url(share), {"text": "Two"})

    with django_assert_num_queries(2):
        page = text_of(sam.get(page_url(share)))

    assert "“<bdi>Two</bdi>”" in page


# The builder on their own link -------------------------------------------------------------

OWN_LINK = "This is your link to <bdi>Sam</bdi>."


@pytest.mark.parametrize("path", [page_url, thanks_url], ids=["page", "thanks"])
def test_the_builder_opening_their_own_link_is_told_nothing_counts(owner_client, share, path):
    page = text_of(owner_client.get(path(share)))

    assert OWN_LINK in page
    assert "nothing you do here counts" in page


def test_what_the_builder_does_on_their_own_link_is_marked_theirs_as_the_banner_says(
    owner_client, share
):
    view(owner_client, share)
    owner_client.post(react_url(share), {"text": "Testing my own link"})

    assert set(share.visits.values_list("by_builder", flat=True)) == {True}
    assert Reaction.objects.get().by_builder
    assert not Reaction.objects.counting().exists()


@pytest.mark.parametrize("who", ["sam", "outsider_client"])
def test_nobody_else_sees_the_banner(request, share, who):
    visitor = request.getfixturevalue(who)

    page = text_of(visitor.get(page_url(share)))

    assert "This is your link" not in page
    assert "nothing you do here counts" not in page


def test_the_banner_names_the_person_but_never_the_builders_note_for_them(owner_client, share):
    share.recipient.note = "climbing gym"
    share.recipient.save()

    page = text_of(owner_client.get(page_url(share)))

    assert OWN_LINK in page
    assert "climbing gym" not in page


# Unknown links -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/r/no-such-token/"),
        ("get", "/r/no-such-token/go/"),
        ("get", "/r/no-such-token/thanks/"),
        ("post", "/r/no-such-token/react/"),
        ("post", "/r/no-such-token/fresh/"),
    ],
)
def test_an_unknown_token_is_a_404_page_in_the_sites_style(client, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 404
    page = text_of(response)
    assert "<h1>Nothing here</h1>" in page
    assert "This link doesn't lead anywhere." in page
    assert "--accent:" in page  # the site's own stylesheet, inlined
    assert not Visit.objects.exists()
    assert not Reaction.objects.exists()


def test_reactions_are_kept_per_share(sam, share):
    ReactionFactory(share=share, text="earlier thought")

    sam.post(react_url(share), {"text": "second thought"})

    assert sorted(share.reactions.values_list("text", flat=True)) == [
        "earlier thought",
        "second thought",
    ]
