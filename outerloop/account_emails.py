"""The account's emails: confirm the address, reset the password, "you already have an
account". Each answers something the address's owner just did, goes through the outbox
(common.outbox) and is written when it is sent, so a reset link is fresh when it leaves.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from common import mail, outbox
from common.builders import Builder, EmailKind

CONFIRM_SALT = "outerloop.confirm-email"
CONFIRM_MAX_AGE = 7 * 24 * 3600  # seconds a confirmation link works


def _fingerprint(email: str) -> str:
    """Names the address in a link without putting it there (URLs end up in logs)."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def confirmation_url(builder: Builder) -> str:
    """A link that confirms this builder's current address (signed; CONFIRM_MAX_AGE)."""
    token = signing.dumps({"b": builder.pk, "e": _fingerprint(builder.email)}, salt=CONFIRM_SALT)
    return settings.OUTERLOOP_BASE_URL + reverse("outerloop:confirm-email", args=[token])


def confirmed_builder(token: str) -> Builder | None:
    """The active builder a confirmation link was made for, if the link is sound, younger than
    CONFIRM_MAX_AGE and made for the address the account has now."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
        builder = Builder.objects.get(pk=int(data["b"]), is_active=True)
    except (signing.BadSignature, KeyError, TypeError, ValueError, Builder.DoesNotExist):
        return None
    return builder if _fingerprint(builder.email) == data["e"] else None


@outbox.composer(EmailKind.CONFIRM)
def confirmation(builder: Builder, period: str) -> mail.Email | None:
    """The link that confirms the address, until it is confirmed."""
    if builder.email_confirmed_at is not None:
        return None
    return mail.Email(
        kind="confirm",
        to=builder,
        context={"confirm_url": confirmation_url(builder), "days": CONFIRM_MAX_AGE // 86400},
    )


@outbox.composer(EmailKind.PASSWORD_RESET)
def password_reset(builder: Builder, period: str) -> mail.Email | None:
    """Django's reset link (uid and token, valid PASSWORD_RESET_TIMEOUT), made at send time."""
    if not builder.has_usable_password():
        return None
    return mail.Email(
        kind="password-reset",
        to=builder,
        context={
            "user": builder,
            "email": builder.email,
            "uid": urlsafe_base64_encode(force_bytes(builder.pk)),
            "token": default_token_generator.make_token(builder),
            "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        },
    )


@outbox.composer(EmailKind.SIGNUP_ATTEMPT)
def signup_attempt(builder: Builder, period: str) -> mail.Email | None:
    """The "you already have an account" email: someone signed up with this address."""
    return mail.Email(kind="signup-attempt", to=builder)
