"""The rule "may this builder get this email now", for every kind and every address state.

It lives in `Builder.may_receive(kind)` (common/builders.py); `BuilderQuerySet.mailable()` is
the same rule as a filter, for the ticks; and the outbox (common/outbox.py) is the one place
that applies it to an email, whatever the kind's composer says: every email addressed to the
builder, never one about them to another address (the operator's).
"""

import dataclasses
from datetime import timedelta

import pytest

from common import bounces, mail
from common import outbox as email_outbox
from common.builders import SWITCH_OF_KIND, Builder, EmailKind
from common.mail import ClaimStatus, EmailClaim
from outerloop.publish import request_publish
from tests.conftest import NOW
from tests.factories import BuilderFactory, ReactionFactory

ALL = frozenset(EmailKind)
HABIT = frozenset({EmailKind.NUDGE, EmailKind.REVIEW, EmailKind.REACTION, EmailKind.FRESH_LINK})
# Replies to something the builder just did, and what proves the address is theirs.
REPLIES = frozenset({EmailKind.PUBLISH, EmailKind.SIGNUP_ATTEMPT})
PROOF = frozenset({EmailKind.CONFIRM, EmailKind.PASSWORD_RESET})


def stopped(stop: str, ago: timedelta = timedelta(days=2)) -> dict:
    return {"email_undeliverable_at": NOW - ago, "email_undeliverable_reason": stop}


WAIT = bounces.SOFT_BOUNCE_WAIT
# Each state an address can be in (the Builder fields that make it), and the kinds it gets.
STATES = {
    "confirmed": ({}, ALL),
    "unconfirmed": ({"email_confirmed_at": None}, PROOF),
    "inactive": ({"is_active": False}, frozenset()),
    "paused": ({"email_paused": True}, REPLIES | PROOF),
    "nudges off": ({"nudges_enabled": False}, ALL - {EmailKind.NUDGE}),
    "reviews off": ({"reviews_enabled": False}, ALL - {EmailKind.REVIEW}),
    "notices off": ({"notices_enabled": False}, ALL - {EmailKind.REACTION, EmailKind.FRESH_LINK}),
    "hard bounced": (stopped(bounces.Stop.BOUNCED), frozenset()),
    "complained": (stopped(bounces.Stop.COMPLAINED), frozenset()),
    "unsubscribed at the provider": (stopped(bounces.Stop.UNSUBSCRIBED), frozenset()),
    "refused, as older code stored it": (stopped("rejected"), frozenset()),
    "soft bounced, waiting": (stopped(bounces.Stop.SOFT_BOUNCED), REPLIES | PROOF),
    "soft bounced, wait over": (
        stopped(bounces.Stop.SOFT_BOUNCED, WAIT + timedelta(minutes=1)),
        ALL,
    ),
    "unconfirmed, soft bounced": (
        {"email_confirmed_at": None, **stopped(bounces.Stop.SOFT_BOUNCED)},
        PROOF,
    ),
    "paused, hard bounced": ({"email_paused": True, **stopped(bounces.Stop.BOUNCED)}, frozenset()),
}
CASES = [(kind, state) for state in STATES for kind in EmailKind]


def in_state(state: str, number: int = 0) -> Builder:
    fields, _ = STATES[state]
    return BuilderFactory(email=f"builder{number}@example.com", **fields)


def gets(kind: str, state: str) -> bool:
    return kind in STATES[state][1]


@pytest.mark.parametrize(("kind", "state"), CASES)
def test_the_rule_for_every_kind_and_address_state(now, db, kind, state):
    builder = in_state(state)

    assert builder.may_receive(kind) is gets(kind, state)


@pytest.fixture
def every_state(now, db) -> list[Builder]:
    return [in_state(state, number) for number, state in enumerate(STATES)]


@pytest.mark.parametrize("kind", sorted(HABIT))
def test_the_filter_agrees_with_the_rule_on_the_same_rows(every_state, kind):
    """mailable() leaves each kind's switch to the caller (the ticks filter on it)."""
    mailable = Builder.objects.mailable().filter(**{SWITCH_OF_KIND[kind]: True})

    assert set(mailable.values_list("pk", flat=True)) == {
        builder.pk for builder in every_state if builder.may_receive(kind)
    }


# The outbox applies the rule, for every kind -------------------------------------------------


@pytest.fixture
def willing_composers(monkeypatch):
    """Every kind's composer replaced by one that always writes an email, to the builder or
    (with `to_email`) to another address: only the outbox is left to apply the rule."""
    to_email: list[str | None] = [None]

    def write(builder: Builder, period: str) -> mail.Email:
        return mail.Email(kind="signup-attempt", to=builder, to_email=to_email[0])

    for kind, registered in list(email_outbox._kinds.items()):
        replaced = dataclasses.replace(registered, compose=write, settled=None)
        monkeypatch.setitem(email_outbox._kinds, kind, replaced)
    return to_email


@pytest.mark.parametrize(("kind", "state"), CASES)
def test_the_outbox_sends_an_email_to_the_builder_only_when_the_rule_allows(
    now, db, willing_composers, outbox, kind, state
):
    builder = in_state(state)

    sent = outbox_send(builder, kind)

    assert sent is gets(kind, state)
    assert [message.to for message in outbox] == ([[builder.email]] if sent else [])
    claim = EmailClaim.objects.get(builder=builder, kind=kind)
    assert claim.status == (ClaimStatus.SENT if sent else ClaimStatus.SKIPPED)


@pytest.mark.parametrize("state", STATES)
def test_an_email_about_the_builder_to_another_address_goes_whatever_their_state(
    now, db, willing_composers, outbox, state
):
    willing_composers[0] = "operator@example.com"
    builder = in_state(state)

    assert outbox_send(builder, EmailKind.PUBLISH)
    assert [message.to for message in outbox] == [["operator@example.com"]]


def outbox_send(builder: Builder, kind: str) -> bool:
    return email_outbox.claim_and_send(builder, kind, "rule")


def test_the_operator_hears_of_a_request_from_a_builder_whose_address_bounced(
    share, settings, outbox, django_capture_on_commit_callbacks
):
    """The publish request goes to OUTERLOOP_OPERATOR_EMAIL: the builder's address state
    is not the operator's (the decision back to the builder is: test_publish)."""
    settings.OUTERLOOP_OPERATOR_EMAIL = "operator@example.com"
    ReactionFactory(share=share)
    builder = share.recipient.builder
    Builder.objects.filter(pk=builder.pk).update(**stopped(bounces.Stop.BOUNCED))

    with django_capture_on_commit_callbacks(execute=True):
        request_publish(share.preview, "crags.example.com", "")

    assert [message.to for message in outbox] == [["operator@example.com"]]
