"""The operator's admin: searchable, filterable, with counts, and no N+1 on list pages."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.builders import Builder
from sessions.models import PublishRequest
from tests.factories import (
    BuilderFactory,
    ReactionFactory,
    RecipientFactory,
    ShareFactory,
    VisitFactory,
)

LISTS = [
    "admin:outerloop_builder_changelist",
    "admin:outerloop_emailclaim_changelist",
    "admin:build_sessions_buildsession_changelist",
    "admin:build_sessions_publishrequest_changelist",
    "admin:reactions_recipient_changelist",
    "admin:reactions_share_changelist",
    "admin:reactions_reaction_changelist",
    "admin:reactions_visit_changelist",
]


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(BuilderFactory(email="ops@example.com", is_staff=True, is_superuser=True))
    return client


def some_builders(count: int) -> None:
    for _ in range(count):
        builder = BuilderFactory()
        share = ShareFactory(recipient=RecipientFactory(builder=builder))
        VisitFactory(share=share)
        reaction = ReactionFactory(share=share)
        PublishRequest.objects.create(preview=share.preview, domain="a.example.com")
        reaction.share.preview.session.builder.email_claims.create(
            kind="nudge", period="2026-03-10"
        )


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", LISTS)
def test_list_pages_make_the_same_number_of_queries_for_3_and_30_rows(staff, name):
    url = reverse(name)
    some_builders(3)
    few = queries_for(staff, url)
    some_builders(27)
    many = queries_for(staff, url)

    assert few == many


def test_builders_are_searchable_by_email_with_read_only_counts(staff):
    builder = BuilderFactory(email="kim@example.com")
    share = ShareFactory(recipient=RecipientFactory(builder=builder))
    ReactionFactory(share=share)
    ReactionFactory(share=share)
    BuilderFactory(email="lee@example.com")

    html = staff.get(reverse("admin:outerloop_builder_changelist"), {"q": "kim@"}).content.decode()

    assert "kim@example.com" in html
    assert "lee@example.com" not in html
    assert '<td class="field-reactions_count">2</td>' in html
    change = staff.get(reverse("admin:outerloop_builder_change", args=[builder.pk]))
    assert '<div class="readonly">2</div>' in change.content.decode()


def test_publish_requests_filter_by_status_and_date(staff):
    some_builders(2)
    PublishRequest.objects.filter(pk=PublishRequest.objects.first().pk).update(
        status="wired", domain="wired.example.com"
    )
    url = reverse("admin:build_sessions_publishrequest_changelist")

    requested = staff.get(url, {"status__exact": "requested"}).content.decode()
    wired = staff.get(url, {"status__exact": "wired"}).content.decode()

    assert "a.example.com" in requested and "wired.example.com" not in requested
    assert "wired.example.com" in wired and "a.example.com" not in wired
    assert "By created at" in requested  # the date filter


def test_a_share_keeps_its_person_and_preview_when_the_operator_edits_it(staff):
    share = ShareFactory()
    elsewhere = RecipientFactory()  # another builder's person
    url = reverse("admin:reactions_share_change", args=[share.pk])

    page = staff.get(url).content.decode()
    assert 'name="recipient"' not in page
    assert 'name="preview"' not in page
    staff.post(url, {"recipient": elsewhere.pk, "channel": "text", "sent_at_0": "2026-03-10",
                     "sent_at_1": "12:00:00", "day": "2026-03-10"})  # fmt: skip

    share.refresh_from_db()
    assert share.recipient_id != elsewhere.pk
    assert share.channel == "text"


def test_people_and_sessions_keep_their_builder_in_the_admin(staff):
    person = RecipientFactory()
    share = ShareFactory()
    person_page = staff.get(reverse("admin:reactions_recipient_change", args=[person.pk]))
    session_page = staff.get(
        reverse("admin:build_sessions_buildsession_change", args=[share.preview.session.pk])
    )

    assert 'name="builder"' not in person_page.content.decode()
    assert 'name="builder"' not in session_page.content.decode()


def test_reactions_cannot_be_added_by_hand(staff):
    assert staff.get(reverse("admin:reactions_reaction_add")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name_variable", "name"), [({}, "ops"), ({"DJANGO_SUPERUSER_NAME": "Robin"}, "Robin")]
)
def test_the_operator_is_created_without_a_prompt(name_variable, name, monkeypatch):
    """The README's set-up: `DJANGO_SUPERUSER_EMAIL=… DJANGO_SUPERUSER_PASSWORD=…
    manage.py createsuperuser --noinput` (it said "You must use --name with --noinput")."""
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "ops@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long operator passphrase")
    for variable, value in name_variable.items():
        monkeypatch.setenv(variable, value)

    call_command("createsuperuser", interactive=False, verbosity=0)

    operator = Builder.objects.get(email="ops@example.com")
    assert (operator.name, operator.is_staff, operator.is_superuser) == (name, True, True)
    assert operator.check_password("a long operator passphrase")
    assert operator.email_confirmed_at is not None
    assert Client().login(username="ops@example.com", password="a long operator passphrase")
