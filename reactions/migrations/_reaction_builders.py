"""Fill in each reaction's builder from share → recipient (used by 0002 and, again, 0003)."""

from django.db.models import OuterRef, Subquery


def fill_in_builders(apps, schema_editor):
    Reaction = apps.get_model("reactions", "Reaction")
    Share = apps.get_model("reactions", "Share")
    owner = Share.objects.filter(pk=OuterRef("share_id")).values("recipient__builder_id")[:1]
    filled = Reaction.objects.filter(builder__isnull=True).update(builder_id=Subquery(owner))
    if filled and schema_editor.connection.vendor == "postgresql":
        # The next ALTER TABLE would fail on the foreign-key checks still pending from this
        # UPDATE ("pending trigger events"): run them now.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
