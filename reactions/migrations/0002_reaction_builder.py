"""Each reaction carries its builder: filled in from share → recipient for existing rows."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from reactions.migrations._reaction_builders import fill_in_builders


class Migration(migrations.Migration):
    dependencies = [
        ("reactions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reaction",
            name="builder",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(fill_in_builders, migrations.RunPython.noop, elidable=True),
    ]
