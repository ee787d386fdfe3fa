"""Every reaction now has its builder (0002 filled them in): required, and indexed newest first.

A migration of its own, after 0002 committed; the fill runs once more for reactions saved by
web workers still running the old code in between.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from reactions.migrations._reaction_builders import fill_in_builders


class Migration(migrations.Migration):
    dependencies = [("reactions", "0002_reaction_builder")]

    operations = [
        migrations.RunPython(fill_in_builders, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="reaction",
            name="builder",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="reaction",
            index=models.Index(
                fields=["builder", "-created_at", "-id"], name="reaction_builder_newest"
            ),
        ),
    ]
