"""How often the account pages may be tried: guessing a password, flooding an inbox with
reset or sign-up emails. Built on the rate-limit layer (common.limits): fixed windows in
Redis, counted in process memory while Redis is down, keyed by hashed values only.

Each limit counts per address (whether or not it has an account, so a refusal tells nothing
about who uses Outer Loop) and per client. Figures follow OWASP's Authentication Cheat Sheet
("Account lockout" and "Login throttling"): a lockout long enough to stop online guessing,
short enough that a builder who fat-fingers their password isn't shut out for the day, and a
password reset that stays available to a locked-out owner.
"""

from django.conf import settings
from django.http import HttpRequest

from common import limits
from common.builders import Builder
from common.limits import Limit

LOGIN_FAILURES_PER_ADDRESS = Limit("login-address", 10, 15 * 60)
LOGIN_FAILURES_PER_CLIENT = Limit("login-client", 30, 15 * 60)
RESETS_PER_ADDRESS = Limit("reset-address", 3, 3600)
RESETS_PER_CLIENT = Limit("reset-client", 10, 3600)
SIGNUPS_PER_CLIENT = Limit("signup-client", 10, 3600)
CONFIRMATIONS_PER_BUILDER = Limit("confirm-again", 3, 3600)
# Each publish request emails the operator, a person: a handful a day is plenty.
PUBLISH_REQUESTS_PER_BUILDER = Limit("publish", 5, 24 * 3600)

# Storing an uploaded build keeps a web worker busy for seconds (every file hashed,
# compressed and written), whether the upload is kept or refused at its last file.
HOSTED_UPLOADS = "hosted-uploads"

LOGIN_MESSAGE = (
    "Too many failed attempts. Wait {minutes} minutes and try again, or reset your password."
)
RESET_MESSAGE = "Too many reset requests. Wait {minutes} minutes, then ask again."
SIGNUP_MESSAGE = "Too many sign-ups from your network. Wait {minutes} minutes and try again."
CONFIRMATION_MESSAGE = "We've sent that link a few times already. Wait {minutes} minutes."
PUBLISH_MESSAGE = (
    "That's five requests today: the operator answers each by hand. Try again in {minutes} minutes."
)
UPLOAD_MESSAGE = (
    "That's {count} uploaded builds this hour, as many as an hour allows. "
    "Try again in {minutes} minutes."
)


def _address(email: str) -> str:
    return limits.hashed(email.strip().lower())


def message(template: str, limit: Limit) -> str:
    return template.format(minutes=max(1, round(limits.retry_after(limit) / 60)), count=limit.count)


def login_refused(request: HttpRequest, email: str) -> Limit | None:
    """The limit that stops this login before the password is checked, if one does."""
    for limit, key in (
        (LOGIN_FAILURES_PER_ADDRESS, _address(email)),
        (LOGIN_FAILURES_PER_CLIENT, limits.client_id(request)),
    ):
        if limits.exhausted(limit, key):
            return limit
    return None


def forget_login_failures(email: str) -> None:
    """The address's owner proved it is theirs (a password reset): its count starts over."""
    limits.forget(LOGIN_FAILURES_PER_ADDRESS, _address(email))


def note_login_failure(request: HttpRequest, email: str) -> None:
    limits.hit(LOGIN_FAILURES_PER_ADDRESS, _address(email))
    limits.hit(LOGIN_FAILURES_PER_CLIENT, limits.client_id(request))


def _first_full(*counted: tuple[Limit, str]) -> Limit | None:
    """Count one hit on each; the first limit that is now over, if any."""
    over = [limit for limit, key in counted if not limits.allow(limit, key)]
    return over[0] if over else None


def reset_refused(request: HttpRequest, email: str) -> Limit | None:
    return _first_full(
        (RESETS_PER_ADDRESS, _address(email)), (RESETS_PER_CLIENT, limits.client_id(request))
    )


def signup_refused(request: HttpRequest) -> Limit | None:
    return _first_full((SIGNUPS_PER_CLIENT, limits.client_id(request)))


def confirmation_refused(builder: Builder) -> Limit | None:
    return _first_full((CONFIRMATIONS_PER_BUILDER, str(builder.pk)))


def publish_refused(builder: Builder) -> Limit | None:
    return _first_full((PUBLISH_REQUESTS_PER_BUILDER, str(builder.pk)))


def hosted_uploads_limit() -> Limit:
    """Builds a builder may upload in an hour, through the API and the dashboard together:
    OUTERLOOP_HOSTED_UPLOADS_PER_HOUR."""
    return Limit(HOSTED_UPLOADS, settings.OUTERLOOP_HOSTED_UPLOADS_PER_HOUR, 3600)


def upload_refused(builder: Builder) -> Limit | None:
    """Count this upload (stored or refused alike, so a refusal costs its sender too); the
    limit it is past, if any, before anything of it is stored."""
    return _first_full((hosted_uploads_limit(), str(builder.pk)))
