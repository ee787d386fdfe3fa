"""Rest days hold from the day they were set: each builder's history of rest-day changes.

Builders who joined before this have one entry: the rest weekdays they have now, from the
local day they joined (their zone and day start as they are now, the best record there is).
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import migrations, models

BATCH = 1000


def joined_day(builder):
    local = builder.date_joined.astimezone(ZoneInfo(builder.time_zone))
    return local.date() - timedelta(days=1) if local.hour < builder.day_start_hour else local.date()


def stamp_history(apps, schema_editor) -> None:
    Builder = apps.get_model("outerloop", "Builder")
    pending = Builder.objects.order_by("pk")
    last = 0
    while batch := list(pending.filter(pk__gt=last)[:BATCH]):
        for builder in batch:
            builder.rest_day_history = [
                {
                    "from": joined_day(builder).isoformat(),
                    "weekdays": sorted(set(builder.rest_weekdays or [])),
                }
            ]
        Builder.objects.bulk_update(batch, ["rest_day_history"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ('outerloop', '0002_builder_email_confirmed_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='builder',
            name='rest_day_history',
            field=models.JSONField(blank=True, db_default=[], default=list, editable=False),
        ),
        migrations.RunPython(stamp_history, migrations.RunPython.noop),
    ]
