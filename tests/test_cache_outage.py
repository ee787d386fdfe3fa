"""A Redis that stops answering (a hung host, not a refused connection) costs a recipient half a
second, never a hung request: the cache's socket timeouts, then the rate limits fail open."""

import socket
import time

import pytest
from django.conf import settings
from django.test import Client

from reactions.models import Reaction
from tests.conftest import PHONE_UA


@pytest.fixture
def silent_redis():
    """A port that takes connections (the kernel's backlog) and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


@pytest.fixture
def hung_cache(silent_redis, settings):
    """The production cache settings, on that port (the settings signal resets the caches)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "outerloop.cache.RedisCache",
            "LOCATION": silent_redis,
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }


def test_a_reaction_is_saved_quickly_while_redis_hangs(hung_cache, share):
    started = time.monotonic()
    response = Client(HTTP_USER_AGENT=PHONE_UA).post(
        f"/r/{share.token}/react/", {"text": "Works even now."}, follow=True
    )
    took = time.monotonic() - started

    assert response.status_code == 200
    assert "Thank you!" in response.content.decode()
    assert Reaction.objects.get().text == "Works even now."
    # Not a speed check: without socket timeouts this request never finishes. Each cache call
    # on the way gives up after REDIS_CACHE_OPTIONS' half second instead.
    assert took < 10 * settings.REDIS_CACHE_OPTIONS["socket_timeout"]
