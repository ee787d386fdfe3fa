import re

from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Lower

# "Sam — climbing gym", as reactions.models.split_name_and_note reads it (copied here: a
# migration keeps the rule of its day).
SEPARATOR = re.compile(r"\s*[\u2014\u2013]\s*|\s+-\s+")
MAX_LENGTH = 80


def split_stored_names(apps, schema_editor):
    """People stored as "Priya — book club" before the note existed become "Priya" with the
    note "book club", unless the builder already has a "Priya" (then the row stays as it is)."""
    Recipient = apps.get_model("reactions", "Recipient")
    for recipient in Recipient.objects.filter(name__regex="[—–]| - ").iterator():
        parts = SEPARATOR.split(recipient.name, maxsplit=1)
        if len(parts) != 2:
            continue
        name, note = parts[0].strip(), parts[1].strip()[:MAX_LENGTH]
        taken = (
            Recipient.objects.filter(builder_id=recipient.builder_id)
            .alias(lower_name=Lower("name"))
            .filter(lower_name=Lower(Value(name)))  # as the unique constraint compares
            .exclude(pk=recipient.pk)
            .exists()
        )
        if name and not taken:
            recipient.name, recipient.note = name, note
            recipient.save(update_fields=["name", "note"])


class Migration(migrations.Migration):
    dependencies = [
        ("reactions", "0004_reaction_idempotency_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="recipient",
            name="note",
            field=models.CharField(
                blank=True,
                db_default="",
                help_text="Who they are to you, e.g. “climbing gym” (never shown to them).",
                max_length=80,
            ),
        ),
        migrations.AlterField(
            model_name="recipient",
            name="name",
            field=models.CharField(help_text="e.g. “Sam”.", max_length=80),
        ),
        migrations.RunPython(split_stored_names, migrations.RunPython.noop),
    ]
