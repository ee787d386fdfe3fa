"""Every URL in the URLconf, tried as another builder and as an anonymous visitor.

Patterns are enumerated from the resolver, so a new URL is covered the day it is added: one
that takes an id this file doesn't know fails the sweep until someone says whose id it is.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from outerloop.models import ApiToken
from reactions.models import Reaction, Recipient, Share, Visit
from sessions.models import BuildSession, Preview, PublishRequest
from tests.factories import ReactionFactory

# Pages that take no builder-owned id, or ids that are public by design.
PUBLIC_PREFIXES = (
    "r/",
    "email/unsubscribe/",
    "email/confirm/",
    "password-reset/",
    "admin/",
    "api/v1/",
    "anymail/",
)
SELF_SCOPED = {"days/<str:day>/"}  # shows only the logged-in builder's own rows
OWNED_IDS = {
    "session_id": lambda w: w["share"].preview.session_id,
    "preview_id": lambda w: w["share"].preview_id,
    "share_id": lambda w: w["share"].pk,
    "reaction_id": lambda w: w["reaction"].pk,
    "recipient_id": lambda w: w["share"].recipient_id,
    "token_id": lambda w: w["token"].pk,
}
ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def patterns(resolver=None, prefix: str = "") -> list[str]:
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += patterns(entry, route)
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


def owned_routes() -> list[str]:
    return [
        route
        for route in patterns()
        if ARGUMENT.search(route)
        and not route.startswith(PUBLIC_PREFIXES)
        and route not in SELF_SCOPED
    ]


@pytest.fixture
def world(owner, share):
    reaction = ReactionFactory(share=share)
    token, _ = ApiToken.issue(owner, "laptop")
    PublishRequest.objects.create(preview=share.preview, domain="crags.example.com")
    return {"share": share, "reaction": reaction, "token": token}


def fill(route: str, world: dict) -> str:
    def value(match: re.Match) -> str:
        name = match["name"]
        assert name in OWNED_IDS, f"{route}: whose is <{name}>? Add it to OWNED_IDS."
        return str(OWNED_IDS[name](world))

    return "/" + ARGUMENT.sub(value, route)


def snapshot() -> list:
    models = (BuildSession, Preview, PublishRequest, Recipient, Share, Visit, Reaction, ApiToken)
    rows = [sorted(model.objects.values_list("pk", flat=True)) for model in models]
    rows.append(list(Reaction.objects.values_list("counts", flat=True)))
    rows.append(list(ApiToken.objects.values_list("revoked_at", flat=True)))
    return rows


def test_the_sweep_finds_the_builder_owned_urls():
    routes = owned_routes()
    assert "shares/<int:share_id>/" in routes
    assert "sessions/<int:session_id>/" in routes
    assert len(routes) >= 10


@pytest.mark.parametrize("route", owned_routes())
def test_another_builder_gets_404_and_changes_nothing(route, world, outsider_client):
    url = fill(route, world)
    before = snapshot()

    responses = [outsider_client.get(url), outsider_client.post(url, {"counts": "0"})]

    for response in responses:
        assert response.status_code in (404, 405), (url, response.status_code)
        assert "crag-finder" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("route", owned_routes())
def test_an_anonymous_visitor_is_sent_to_log_in_and_changes_nothing(route, world, client):
    url = fill(route, world)
    before = snapshot()

    for response in (client.get(url), client.post(url, {"counts": "0"})):
        assert response.status_code in (302, 405), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/login/?next=")
    assert snapshot() == before


def builder_pages() -> list[str]:
    """Every route a logged-in builder reads, ids or not (the API has its own test)."""
    return [route for route in patterns() if not route.startswith(PUBLIC_PREFIXES)]


@pytest.mark.parametrize("route", builder_pages())
def test_every_builder_page_is_private_and_never_stored(route, world, owner_client):
    """After logging out, Back must not show the page from the browser's cache: each answer
    says `private, no-store`, as Django's admin does."""
    url = fill(route.replace("<str:day>", world["share"].day.isoformat()), world)
    response = owner_client.get(url)

    cache_control = response.get("Cache-Control", "")
    assert "private" in cache_control, (route, response.status_code)
    assert "no-store" in cache_control, (route, response.status_code)


def test_the_api_answers_are_private_and_never_stored(world):
    _, raw = ApiToken.issue(world["share"].recipient.builder, "cli")
    response = Client().get("/api/v1/today", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_the_landing_page_for_visitors_may_be_cached(client, db):
    response = client.get("/")

    assert "no-store" not in response.get("Cache-Control", "")
