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
    old = migrate_to(("reactions", "0003_reaction_builder_required"))
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

    new = migrate_to(("reactions", "0004_reaction_idempotency_key"))

    Reaction = new.get_model("reactions", "Reaction")
    assert list(Reaction.objects.values_list("idempotency_key", flat=True)) == ["", ""]
    Reaction.objects.create(share_id=share.pk, builder_id=builder.pk, text="Same words.")
    assert Reaction.objects.count() == 3
