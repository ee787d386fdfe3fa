"""Django's createsuperuser, whose builder name may be left out: the operator's set-up is
`DJANGO_SUPERUSER_EMAIL=… DJANGO_SUPERUSER_PASSWORD=… manage.py createsuperuser --noinput`."""

import os

from django.contrib.auth.management.commands import createsuperuser


def default_name(email: str) -> str:
    """The name an operator gets without --name or DJANGO_SUPERUSER_NAME: the part of the
    address before the @ ("ops" for ops@example.com), or "Operator" without one. It is shown
    to the people the operator sends links to, and can be changed in Settings."""
    return email.partition("@")[0].strip() or "Operator"


class Command(createsuperuser.Command):
    help = (
        "Creates the operator's account (staff, superuser). With --noinput it reads "
        "DJANGO_SUPERUSER_EMAIL, DJANGO_SUPERUSER_PASSWORD and, optionally, "
        "DJANGO_SUPERUSER_NAME (default: the address before the @)."
    )

    def handle(self, *args, **options):
        if (
            not options["interactive"]
            and not options.get("name")
            and not os.environ.get("DJANGO_SUPERUSER_NAME")
        ):
            email = options.get("email") or os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
            options["name"] = default_name(email)
        return super().handle(*args, **options)
