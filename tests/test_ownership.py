"""Every builder-owned object is fetched through its owner: another builder's id is a 404."""

import pytest
from django.urls import reverse

from reactions.models import Channel, Reaction, Recipient, RemovedLink, Share, Visit
from sessions.models import BuildSession, Preview
from tests.factories import ReactionFactory

# (method, URL name, which owned object's id goes in the URL, POST data)
OWNED_URLS = [
    ("get", "sessions:session-detail", "session", {}),
    ("post", "sessions:preview-add", "session", {"url": "https://riley.example.dev/"}),
    ("post", "sessions:preview-renew", "preview", {}),
    ("get", "reactions:share-create", "preview", {}),
    ("post", "reactions:share-create", "preview", {"recipient": "Mallory", "channel": Channel.DM}),
    ("get", "reactions:share-detail", "share", {}),
    ("post", "reactions:share-renew", "share", {}),
    ("post", "reactions:reaction-counts", "reaction", {"counts": "0"}),
    ("get", "outerloop:session-rename", "session", {}),
    ("post", "outerloop:session-rename", "session", {"title": "Mine now"}),
    ("get", "outerloop:session-merge", "session", {}),
    ("get", "outerloop:session-delete", "session", {}),
    ("post", "outerloop:session-delete", "session", {}),
    ("get", "outerloop:preview-delete", "preview", {}),
    ("post", "outerloop:preview-delete", "preview", {}),
    ("get", "outerloop:share-delete", "share", {}),
    ("post", "outerloop:share-delete", "share", {}),
    ("get", "outerloop:person-rename", "recipient", {}),
    ("post", "outerloop:person-rename", "recipient", {"name": "Mallory", "note": ""}),
    ("get", "outerloop:person-merge", "recipient", {}),
]
IDS = [f"{method} {name}" for method, name, _, _ in OWNED_URLS]
# What Alex's pages show and nobody else's may: the title, the URL, Sam's words.
PRIVATE = ["Crag finder", "crag-finder.example.dev", "Sam liked the big button"]


@pytest.fixture
def owned(session, preview, share) -> dict:
    """Alex's things, one of each kind, with Sam's reaction on the share."""
    reaction = ReactionFactory(share=share, text="Sam liked the big button")
    return {
        "session": session,
        "preview": preview,
        "share": share,
        "reaction": reaction,
        "recipient": share.recipient,
    }


def database() -> dict[str, list[dict]]:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (BuildSession, Preview, Recipient, Share, Reaction, Visit, RemovedLink)
    }


def request(client, method: str, name: str, obj, data: dict):
    url = reverse(name, args=[obj.pk])
    return client.post(url, data) if method == "post" else client.get(url)


@pytest.mark.parametrize(("method", "name", "kind", "data"), OWNED_URLS, ids=IDS)
def test_another_builder_gets_a_404_and_changes_nothing(
    outsider_client, owned, method, name, kind, data
):
    before = database()

    response = request(outsider_client, method, name, owned[kind], data)

    assert response.status_code == 404
    page = response.content.decode()
    assert "Nothing here" in page
    assert not [text for text in PRIVATE if text in page]
    assert database() == before


@pytest.mark.parametrize(("method", "name", "kind", "data"), OWNED_URLS, ids=IDS)
def test_an_anonymous_visitor_is_sent_to_log_in_and_changes_nothing(
    client, owned, method, name, kind, data
):
    before = database()

    response = request(client, method, name, owned[kind], data)

    url = reverse(name, args=[owned[kind].pk])
    assert response.status_code == 302
    assert response.url == f"{reverse('outerloop:login')}?next={url}"
    assert database() == before


@pytest.mark.parametrize(("method", "name", "kind", "data"), OWNED_URLS, ids=IDS)
def test_the_owner_can_use_every_one_of_them(owner_client, owned, method, name, kind, data):
    response = request(owner_client, method, name, owned[kind], data)

    assert response.status_code == (200 if method == "get" else 302)


def test_another_builders_session_list_and_dashboard_show_none_of_it(
    owner_client, outsider_client, owned
):
    assert all(
        text in owner_client.get(reverse("outerloop:dashboard")).content.decode()
        for text in PRIVATE[::2]
    )
    for url in (reverse("sessions:session-list"), reverse("outerloop:dashboard")):
        page = outsider_client.get(url).content.decode()
        assert not [text for text in PRIVATE if text in page]
