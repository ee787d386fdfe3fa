"""Migrations that change data, run over existing rows (on PostgreSQL in CI).

Each test rolls the schema back to just before the migration, writes rows as the old code
would have, migrates forward and checks what the rows hold. The test database is migrated to
the latest state again afterwards, for the tests that follow.
"""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

JOINED = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)


def migrate_to(*targets: tuple[str, str]):
    """Migrate to `targets`; the historical apps (models as they were) at that point."""
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    return executor.loader.project_state(list(targets)).apps


@pytest.fixture
def back_to_latest():
    yield
    call_command("migrate", verbosity=0)


def test_builders_who_joined_before_confirmation_are_confirmed_on_the_day_they_joined(
    back_to_latest,
):
    old = migrate_to(("outerloop", "0001_initial"))
    Builder = old.get_model("outerloop", "Builder")
    early = Builder.objects.create(email="early@example.com", name="Early", date_joined=JOINED)
    later = Builder.objects.create(
        email="later@example.com", name="Later", date_joined=datetime(2026, 2, 3, tzinfo=UTC)
    )

    new = migrate_to(("outerloop", "0002_builder_email_confirmed_at"))

    Builder = new.get_model("outerloop", "Builder")
    assert Builder.objects.get(pk=early.pk).email_confirmed_at == JOINED
    assert Builder.objects.get(pk=later.pk).email_confirmed_at == datetime(2026, 2, 3, tzinfo=UTC)


def test_reactions_stored_before_idempotency_keys_keep_their_rows_and_allow_duplicates(
    back_to_latest,
):
    """Old reactions get an empty key, which the unique constraint leaves alone."""
    old = migrate_to(
        ("reactions", "0003_reaction_builder_required"),
        ("outerloop", "0002_builder_email_confirmed_at"),
    )
    Builder = old.get_model("outerloop", "Builder")
    Session = old.get_model("build_sessions", "BuildSession")
    Preview = old.get_model("build_sessions", "Preview")
    Recipient = old.get_model("reactions", "Recipient")
    Share = old.get_model("reactions", "Share")
    Reaction = old.get_model("reactions", "Reaction")
    builder = Builder.objects.create(email="b@example.com", name="B", date_joined=JOINED)
    session = Session.objects.create(builder=builder, title="Map")
    preview = Preview.objects.create(session=session, url="https://m.example/", expires_at=JOINED)
    share = Share.objects.create(
        preview=preview,
        recipient=Recipient.objects.create(builder=builder, name="Sam"),
        token="t" * 32,
        day=JOINED.date(),
    )
    for _ in range(2):
        Reaction.objects.create(share=share, builder=builder, text="Same words.")

    new = migrate_to(
        ("reactions", "0004_reaction_idempotency_key"),
        ("outerloop", "0002_builder_email_confirmed_at"),
    )

    Reaction = new.get_model("reactions", "Reaction")
    assert list(Reaction.objects.values_list("idempotency_key", flat=True)) == ["", ""]
    Reaction.objects.create(share_id=share.pk, builder_id=builder.pk, text="Same words.")
    assert Reaction.objects.count() == 3


def test_builders_rest_days_hold_from_the_local_day_they_joined(back_to_latest):
    """13:30 UTC on 1 June 2025 was already 01:30 on 2 June in Auckland; 9:30 UTC was 02:30
    in Los Angeles, still 31 May with a 6 a.m. day start."""
    old = migrate_to(("outerloop", "0002_builder_email_confirmed_at"))
    Builder = old.get_model("outerloop", "Builder")
    rests = Builder.objects.create(
        email="kiwi@example.com",
        name="Kiwi",
        date_joined=datetime(2025, 6, 1, 13, 30, tzinfo=UTC),
        time_zone="Pacific/Auckland",
        rest_weekdays=[6, 5],
    )
    owl = Builder.objects.create(
        email="owl@example.com",
        name="Owl",
        date_joined=JOINED,
        time_zone="America/Los_Angeles",
        day_start_hour=6,
    )

    new = migrate_to(("outerloop", "0003_builder_rest_day_history"))

    Builder = new.get_model("outerloop", "Builder")
    assert Builder.objects.get(pk=rests.pk).rest_day_history == [
        {"from": "2025-06-02", "weekdays": [5, 6]}
    ]
    assert Builder.objects.get(pk=owl.pk).rest_day_history == [
        {"from": "2025-05-31", "weekdays": []}
    ]
