"""`manage.py seed_demo`: a builder with three months of history, in a couple of seconds."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from common.builders import Builder
from common.mail import ClaimStatus, EmailClaim
from outerloop.habit import habit_for
from reactions.models import Reaction, Recipient, Share, Visit, VisitKind
from sessions.models import BuildSession, Preview


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(now, db) -> Builder:
    seed()
    return Builder.objects.get(email="demo@example.com")


def test_the_demo_has_three_months_of_history_and_a_streak_going(demo, now):
    habit = habit_for(demo, now)
    days = Share.objects.owned_by(demo).values_list("day", flat=True)

    assert (habit.today - min(days)).days >= 80
    assert habit.current_streak >= 7
    statuses = {str(status) for status in habit.statuses.values()}
    assert {"closed", "missed", "rest"} <= statuses
    assert demo.rest_days


def test_the_demo_is_full_of_people_and_their_words(demo):
    assert 15 <= BuildSession.objects.owned_by(demo).count() <= 25
    assert Preview.objects.owned_by(demo).count() >= 20
    people = Recipient.objects.owned_by(demo)
    assert people.count() == 12
    assert people.filter(lives_with=True).count() == 1
    reactions = Reaction.objects.owned_by(demo)
    assert len(set(reactions.values_list("text", flat=True))) >= 30
    assert reactions.filter(counts=False).exists()
    visits = Visit.objects.filter(share__recipient__builder=demo)
    assert visits.filter(kind=VisitKind.OPEN, via_qr=True).exists()
    assert visits.filter(kind=VisitKind.TAP).exists()
    assert visits.filter(kind=VisitKind.RETURN).exists()
    assert set(visits.values_list("device_class", flat=True)) == {"phone", "tablet", "desktop"}
    assert EmailClaim.objects.filter(builder=demo).exists()


def test_every_share_has_its_builder_local_day(demo):
    for share in Share.objects.owned_by(demo):
        assert share.day == demo.local_day(share.sent_at)


def test_the_demo_sends_no_old_notices_when_the_app_starts(demo):
    assert not Reaction.objects.owned_by(demo).counting().filter(notified_at__isnull=True)
    assert not EmailClaim.objects.filter(builder=demo).exclude(status=ClaimStatus.SENT)


@pytest.mark.django_db
def test_seeding_takes_few_queries_and_prints_how_to_log_in(now, django_assert_max_num_queries):
    # Quick by its query count (bulk writes), which no machine's load changes.
    with django_assert_max_num_queries(30):
        output = seed("--password", "let-me-in-demo")

    assert "Log in at http://" in output
    assert "demo@example.com" in output and "let-me-in-demo" in output
    assert Builder.objects.get(email="demo@example.com").check_password("let-me-in-demo")


@pytest.mark.django_db
def test_a_public_instance_needs_a_password_of_its_own(settings):
    settings.OUTERLOOP_BASE_URL = "https://loop.example.com"

    with pytest.raises(CommandError, match="--password"):
        seed()

    assert not Builder.objects.exists()
    assert "hunter-two-demo" in seed("--password", "hunter-two-demo")


def test_seeding_twice_leaves_the_demo_as_it_was(demo):
    shares = Share.objects.count()

    output = seed()

    assert "already exists" in output
    assert Builder.objects.filter(email="demo@example.com").count() == 1
    assert Share.objects.count() == shares


def test_reset_recreates_the_demo(demo, outsider):
    old_shares = set(Share.objects.owned_by(demo).values_list("pk", flat=True))

    output = seed("--reset")

    fresh = Builder.objects.get(email="demo@example.com")
    assert fresh.pk != demo.pk
    assert "Created demo@example.com" in output
    assert not Share.objects.filter(pk__in=old_shares).exists()
    assert Builder.objects.filter(pk=outsider.pk).exists()
