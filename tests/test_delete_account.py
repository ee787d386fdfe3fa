"""Deleting an account: the password first, then no row of the builder's is left anywhere."""

from html import unescape

import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.urls import reverse

from common.builders import Builder
from outerloop.export import owned_counts
from tests.factories import PASSWORD
from tests.test_export import history

URL = reverse("outerloop:delete-account")


def every_row() -> dict[str, set]:
    """The primary keys in every table of the project (login sessions aside), by model."""
    return {
        model._meta.label: set(model._base_manager.values_list("pk", flat=True))
        for model in apps.get_models()
        if model is not Session
    }


@pytest.fixture
def before_owner_history(owner, outsider, now) -> dict[str, set]:
    """Riley's history, Alex's account: what must be left, give or take Alex's own row."""
    history(outsider, now)
    rows = every_row()
    rows["outerloop.Builder"].discard(owner.pk)
    return rows


@pytest.fixture
def owned(before_owner_history, owner, now) -> dict[str, list[int]]:
    LogEntry.objects.create(user=owner, action_flag=1, object_repr="something in the admin")
    return history(owner, now)


def test_the_page_says_what_will_be_deleted_with_counts(owner_client, owned):
    page = unescape(owner_client.get(URL).content.decode())

    assert "alex@example.com" in page
    assert "2 build sessions and 3 previews" in page
    assert "2 people you sent to" in page
    assert "3 links you sent, with 5 visits" in page
    assert "3 reactions" in page
    assert "2 publish requests" in page
    assert "2 records of emails we sent you" in page
    assert 'type="password"' in page


def test_a_wrong_password_deletes_nothing(owner_client, owner, owned):
    before = every_row()

    response = owner_client.post(URL, {"password": "not my password"})

    assert response.status_code == 400
    assert "That isn't your password. Nothing was deleted." in unescape(response.content.decode())
    assert every_row() == before
    assert owner_client.get(reverse("outerloop:settings")).status_code == 200  # still logged in


def test_no_password_deletes_nothing(owner_client, owned):
    before = every_row()

    response = owner_client.post(URL, {})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert every_row() == before


def test_the_right_password_leaves_no_row_of_the_builder_behind(
    owner_client, owner, owned, before_owner_history
):
    share_token = owner.recipients.first().shares.first().token

    response = owner_client.post(URL, {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [(reverse("outerloop:dashboard"), 302)]
    page = unescape(response.content.decode())
    assert "Your account alex@example.com and everything in it are deleted." in page
    assert "Start your streak" in page  # the landing page, logged out
    assert every_row() == before_owner_history  # Riley's things, and nothing else
    assert not Builder.objects.filter(email="alex@example.com").exists()
    assert "_auth_user_id" not in owner_client.session
    link = owner_client.get(reverse("reactions:recipient-page", args=[share_token]))
    assert link.status_code == 404


def test_the_outsider_keeps_everything(owner_client, outsider, owned):
    riley_before = owned_counts(outsider)

    owner_client.post(URL, {"password": PASSWORD})

    assert owned_counts(outsider) == riley_before
    assert all(riley_before.values())


@pytest.mark.django_db
def test_deleting_needs_a_login(client):
    response = client.post(URL, {"password": PASSWORD})

    assert response.status_code == 302
    assert response.url.startswith(reverse("outerloop:login"))
