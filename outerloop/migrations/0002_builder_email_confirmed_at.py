"""Addresses are confirmed before anything but the confirmation is sent to them.

Builders who signed up before this have had their email for weeks; they are taken as
confirmed on the day they joined, so their nudges and reviews don't stop without warning.
"""

from django.db import migrations, models
from django.db.models import F


def confirm_existing(apps, schema_editor) -> None:
    Builder = apps.get_model("outerloop", "Builder")
    Builder.objects.filter(email_confirmed_at__isnull=True).update(
        email_confirmed_at=F("date_joined")
    )


class Migration(migrations.Migration):

    dependencies = [
        ('outerloop', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='builder',
            name='email_confirmed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(confirm_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='emailclaim',
            name='kind',
            field=models.CharField(choices=[('nudge', 'Daily nudge'), ('review', 'Weekly review'), ('reaction', 'Reaction notice'), ('fresh_link', 'Fresh link request'), ('publish', 'Publish request'), ('confirm', 'Address confirmation'), ('password_reset', 'Password reset'), ('signup_attempt', 'Sign-up with a used address')], max_length=16),
        ),
    ]
