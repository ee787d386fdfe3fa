"""Soft bounces count in a row, and the newest delivery clears them (common.bounces).

Existing builders start with none counted and no delivery seen: nothing to change in their
rows. A stop stored before this keeps its reason ("bounced", "complained", "rejected"): a
complaint holds until the builder clears it, the others also until a delivery after them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('outerloop', '0003_builder_rest_day_history'),
    ]

    operations = [
        migrations.AddField(
            model_name='builder',
            name='email_delivered_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='builder',
            name='email_soft_bounced_since',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='builder',
            name='email_soft_bounces',
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
    ]
