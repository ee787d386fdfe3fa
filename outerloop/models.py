"""The builder: the one account type. Recipients never have accounts."""

import zoneinfo
from datetime import date, datetime

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from outerloop import streaks


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone we know (try Europe/Berlin).")


class BuilderManager(BaseUserManager["Builder"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "Builder":
        if not email:
            raise ValueError("A builder needs an email address.")
        builder = self.model(email=self.normalize_email(email).lower(), **fields)
        builder.set_password(password)
        builder.save(using=self._db)
        return builder

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "Builder":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> "Builder":
        return self.get(email__iexact=username)


class Builder(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = models.CharField(
        max_length=80, help_text="Shown to the people you send links to, e.g. “Alex”."
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    day_start_hour = models.PositiveSmallIntegerField(
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(6)],
        help_text="Night owl? Your day can start as late as 6 a.m.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = BuilderManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = "builder"

    def __str__(self) -> str:
        return self.email

    def local_day(self, moment: datetime | None = None) -> date:
        """The builder's own date for a moment (now by default): their zone and day start."""
        return streaks.local_day(moment or timezone.now(), self.time_zone, self.day_start_hour)

    def local_now(self) -> datetime:
        return timezone.now().astimezone(zoneinfo.ZoneInfo(self.time_zone))
