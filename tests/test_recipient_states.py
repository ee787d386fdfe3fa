"""What a link holder can trigger, endpoint by endpoint, in every state a share can be in.

The recipient's endpoints (reactions/urls.py, "r/<token>/…") are enumerated from the
URLconf, so a new one fails `test_every_recipient_endpoint_is_in_the_table` until its row is
written. States: live; expired; renewed (expired, then the builder sent a fresh link: the
person still holds the old one, which forwards its page, its Open button and a fresh-link
request to the live one); deleted (the builder deleted their account). For each, the
table says the answer's status, what the database gains, and which email the builder gets.
Nothing may be recorded, and no notice sent, for an action that can't happen in that state:
a fresh link asked for while the link still works, a tap on a preview that no longer opens.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from common.builders import Builder
from reactions.models import Reaction, Share, Visit, VisitKind
from tests.conftest import NOW, PHONE_UA

STATES = ["live", "expired", "renewed", "deleted"]


@dataclass(frozen=True)
class Action:
    method: str
    route: str  # the URL name in the `reactions` namespace
    data: dict


ACTIONS = {
    "page": Action("get", "recipient-page", {}),
    "seen": Action("post", "recipient-seen", {}),
    "tap": Action("post", "recipient-seen", {"event": "tap"}),
    "go": Action("get", "recipient-go", {}),
    "react": Action("post", "recipient-react", {"text": "The map loads fast."}),
    "thanks": Action("get", "recipient-thanks", {}),
    "fresh": Action("post", "recipient-fresh", {}),
}


@dataclass(frozen=True)
class Expected:
    status: int
    visits: tuple[str, ...] = ()  # recorded, in order
    reaction: bool = False
    fresh_asked: bool = False
    subject: str | None = None  # the builder's email, if any


GONE = Expected(404)
FORWARDED = Expected(302)  # to the live link's page: nothing recorded on the old one
# (action, state) → what happens. "renewed" behaves as "expired" for the old link (it is
# one), except where it forwards.
TABLE = {
    ("page", "live"): Expected(200),
    ("page", "expired"): Expected(200),
    ("seen", "live"): Expected(204, visits=(VisitKind.OPEN,)),
    ("seen", "expired"): Expected(204, visits=(VisitKind.OPEN,)),  # a visit after expiry: a signal
    ("tap", "live"): Expected(204, visits=(VisitKind.TAP,)),
    ("tap", "expired"): Expected(204),  # nothing to tap: the preview no longer loads
    # Without JavaScript the Open button (and a reaction) is what confirms the open.
    ("go", "live"): Expected(302, visits=(VisitKind.OPEN, VisitKind.TAP)),
    ("go", "expired"): Expected(410),
    ("react", "live"): Expected(
        302, visits=(VisitKind.OPEN,), reaction=True, subject="Sam reacted to Crag finder"
    ),
    ("react", "expired"): Expected(
        302, visits=(VisitKind.OPEN,), reaction=True, subject="Sam reacted to Crag finder"
    ),
    ("thanks", "live"): Expected(200),
    ("thanks", "expired"): Expected(200),
    # The link still works: no request is recorded and the builder is told nothing false.
    ("fresh", "live"): Expected(409),
    ("fresh", "expired"): Expected(
        302, fresh_asked=True, subject="Sam asked for a fresh link to Crag finder"
    ),
}
for (action, state), expected in list(TABLE.items()):
    if state == "expired":
        TABLE[action, "renewed"] = FORWARDED if action in {"page", "go", "fresh"} else expected
    TABLE[action, "deleted"] = GONE


def recipient_routes() -> set[str]:
    """The names of every route under "r/<token>/" in the URLconf."""
    return {
        entry.name
        for entry in get_resolver("reactions.urls").url_patterns
        if str(entry.pattern).startswith("r/")
    }


def test_every_recipient_endpoint_is_in_the_table():
    assert {action.route for action in ACTIONS.values()} == recipient_routes()
    assert len(TABLE) == len(ACTIONS) * len(STATES)


@pytest.fixture
def in_state(share, owner, owner_client, time_machine):
    def put(state: str) -> Share:
        if state in {"expired", "renewed"}:
            time_machine.move_to(NOW + timedelta(hours=1), tick=False)
        if state == "renewed":
            owner_client.post(reverse("reactions:share-renew", args=[share.pk]))
            assert Share.objects.exclude(pk=share.pk).get().recipient == share.recipient
        if state == "deleted":
            Builder.objects.filter(pk=owner.pk).delete()
        return share

    return put


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("name", ACTIONS)
def test_what_a_link_holder_can_trigger_in_each_state(
    name, state, in_state, outbox, django_capture_on_commit_callbacks
):
    share = in_state(state)
    action = ACTIONS[name]
    expected = TABLE[name, state]
    sam = Client(headers={"User-Agent": PHONE_UA})
    url = reverse(f"reactions:{action.route}", args=[share.token])
    sam.get(reverse("reactions:recipient-page", args=[share.token]))  # the link holder's page

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(sam, action.method)(url, action.data)

    assert response.status_code == expected.status
    shares = Share.objects.filter(pk=share.pk)
    visits = Visit.objects.filter(share__in=shares).order_by("at", "id")
    assert tuple(visits.values_list("kind", flat=True)) == expected.visits
    assert Reaction.objects.filter(share__in=shares).exists() == expected.reaction
    assert shares.filter(fresh_link_requested_at__isnull=False).exists() == expected.fresh_asked
    assert [message.subject for message in outbox] == (
        [expected.subject] if expected.subject else []
    )


def test_a_fresh_link_asked_for_while_the_link_works_shows_the_working_page(share, outbox):
    sam = Client(headers={"User-Agent": PHONE_UA})

    response = sam.post(reverse("reactions:recipient-fresh", args=[share.token]))

    page = response.content.decode()
    assert "Open <bdi>Crag finder</bdi>" in page
    assert "This preview has expired." not in page
    assert outbox == []
