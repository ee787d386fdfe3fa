"""Who is asking: a builder's bearer token, and the rate limits around tokens."""

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from common import limits
from outerloop.api.errors import RateLimited
from outerloop.models import ApiToken, hash_api_token

PER_MINUTE = limits.Limit("api-token", 60, 60)
# Wrong bearer tokens, per client (its hashed IP): guessing a token costs a 429 after this many.
WRONG_TOKENS_PER_CLIENT = limits.Limit("api-wrong-tokens", 30, 600)
TOUCH_EVERY = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    """A bearer token of an active builder, each token with its own budget per minute.

    A token that matches nothing counts against its client (the hashed IP, never the raw one);
    past the limit, that client's wrong tokens get a 429 instead of a 401. A valid token still
    works from there, as a real share link still opens past the recipients' guessing limit:
    tokens carry 256 random bits, so the limit is about noise rather than odds, and a shared
    address (an office, a CI runner) must not lock its own builders out.
    """

    def authenticate(self, request: HttpRequest, token: str):
        row = (
            ApiToken.objects.active()
            .select_related("builder")
            .filter(token_hash=hash_api_token(token))
            .first()
        )
        if row is None:
            if not limits.allow(WRONG_TOKENS_PER_CLIENT, limits.client_id(request)):
                raise RateLimited(
                    WRONG_TOKENS_PER_CLIENT,
                    "Too many wrong tokens from your address; check the token and try again "
                    f"in {WRONG_TOKENS_PER_CLIENT.seconds // 60} minutes.",
                )
            return None
        if not limits.allow(PER_MINUTE, str(row.pk)):
            raise RateLimited(PER_MINUTE, "60 requests a minute per token; slow down.")
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.builder
        return row.builder
