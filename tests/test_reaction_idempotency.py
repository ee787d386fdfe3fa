"""A reaction form posted again never stores a second reaction.

Each rendering of the recipient's page writes a random `idempotency_key` into its form. The
same form sent twice (the browser's "resend" after a timeout or a 500, Back and Send again,
an htmx retry) finds the reaction the first one stored, answers with the same thanks, and
queues no second notice.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from reactions.models import Reaction, Recipient, Visit
from reactions.sharing import share_preview
from tests.conftest import PHONE_UA
from tests.races import needs_postgres, run_at_once

KEY = re.compile(r'name="idempotency_key" value="([A-Za-z0-9_-]{22})"')


def react_url(share) -> str:
    return reverse("reactions:recipient-react", args=[share.token])


def form_key(client: Client, share) -> str:
    page = client.get(reverse("reactions:recipient-page", args=[share.token]))
    return KEY.search(page.content.decode())[1]


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """Send the reaction form, then run what the commit queues (the notice)."""

    def send(client: Client, share, headers: dict | None = None, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(react_url(share), data, headers=headers or {})

    return send


def test_each_page_writes_a_new_key_into_its_form(sam, share):
    assert form_key(sam, share) != form_key(sam, share)


@pytest.mark.parametrize("htmx", [False, True])
def test_the_same_form_sent_twice_stores_one_reaction_and_one_notice(
    sam, share, post, outbox, htmx
):
    key = form_key(sam, share)
    headers = {"HX-Request": "true"} if htmx else {}
    form = {"text": "The map loads fast.", "idempotency_key": key}

    first = post(sam, share, headers=headers, **form)
    again = post(sam, share, headers=headers, **form)

    assert Reaction.objects.filter(share=share).count() == 1
    assert [message.subject for message in outbox] == ["Sam reacted to Crag finder"]
    assert again.status_code == first.status_code
    if htmx:
        assert "Thank you!" in again.content.decode()
        assert "“<bdi>The map loads fast.</bdi>”" in again.content.decode()
    else:
        assert again["Location"] == first["Location"] == f"/r/{share.token}/thanks/"
    assert list(Visit.objects.values_list("kind", flat=True)) == ["open"]


def test_two_forms_with_the_same_words_are_two_reactions(sam, share, post):
    """Saying the same thing twice on purpose is the person's right: each form is its own."""
    for _ in range(2):
        post(sam, share, text="Again: love it.", idempotency_key=form_key(sam, share))

    assert Reaction.objects.filter(share=share).count() == 2


@pytest.mark.parametrize("key", ["", "short", "has spaces in it, twenty+", "x" * 65, "é" * 22])
def test_a_missing_or_malformed_key_still_saves_each_reaction(sam, share, post, key):
    post(sam, share, text="Works.", idempotency_key=key)
    post(sam, share, text="Works.", idempotency_key=key)

    assert Reaction.objects.filter(share=share).count() == 2


def test_a_refused_form_comes_back_with_its_own_key(sam, share):
    key = form_key(sam, share)

    response = sam.post(react_url(share), {"text": "   ", "idempotency_key": key})

    assert response.status_code == 400
    assert KEY.search(response.content.decode())[1] == key


def test_the_same_key_on_another_share_is_another_reaction(sam, share, post, owner, preview):
    other = share_preview(preview, Recipient.objects.create(builder=owner, name="Kim"), "dm")
    key = form_key(sam, share)

    post(sam, share, text="Mine.", idempotency_key=key)
    post(sam, other, text="Mine.", idempotency_key=key)

    assert Reaction.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@needs_postgres
def test_the_same_form_racing_itself_stores_one_reaction(share):
    key = form_key(Client(headers={"User-Agent": PHONE_UA}), share)

    def send() -> int:
        client = Client(headers={"User-Agent": PHONE_UA})
        return client.post(react_url(share), {"text": "Once.", "idempotency_key": key}).status_code

    statuses, errors = run_at_once(*[send] * 4)

    assert errors == []
    assert statuses == [302] * 4
    assert list(Reaction.objects.values_list("text", flat=True)) == ["Once."]


def test_a_stored_form_sent_again_past_the_rate_limit_is_thanked_not_refused(sam, share, post):
    """Its words are saved: telling the person to "send them again later" would be false."""
    key = form_key(sam, share)
    post(sam, share, text="Mine.", idempotency_key=key)
    for n in range(19):
        post(sam, share, text=f"Another {n}.", idempotency_key=form_key(sam, share))
    assert post(sam, share, text="One too many.").status_code == 429

    again = post(sam, share, text="Mine.", idempotency_key=key)

    assert again.status_code == 302
    assert again["Location"] == f"/r/{share.token}/thanks/"
    assert Reaction.objects.filter(share=share, text="Mine.").count() == 1
