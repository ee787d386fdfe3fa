"""The outerloop app's models: personal API tokens; and, registered here under this app's
label, the models defined below the apps (`common.builders.Builder`, `common.mail.EmailClaim`),
so Django finds them at start-up and their tables and migrations stay this app's."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone

from common.builders import Builder
from common.fields import PeoplesCharField
from common.mail import EmailClaim

__all__ = ["ApiToken", "Builder", "EmailClaim", "hash_api_token"]


def hash_api_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def owned_by(self, builder) -> "ApiTokenQuerySet":
        return self.filter(builder=builder)

    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True, builder__is_active=True)


class ApiToken(models.Model):
    """A personal API token: shown once, stored only as a SHA-256 hash."""

    PREFIX = "ol_"

    builder = models.ForeignKey(Builder, on_delete=models.CASCADE, related_name="api_tokens")
    name = PeoplesCharField(max_length=60, help_text="Where it lives, e.g. “laptop CLI”.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="The first characters.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, builder: Builder, name: str) -> tuple["ApiToken", str]:
        """A new token and its raw value, which is never stored and never shown again."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            builder=builder, name=name, token_hash=hash_api_token(raw), hint=raw[:10]
        )
        return token, raw
