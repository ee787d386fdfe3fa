"""A Redis that stops answering (a hung host, not a refused connection) costs a recipient half a
second, never a hung request: the cache's socket timeouts, then the rate limits fail open."""

import signal
import socket
from contextlib import contextmanager

import pytest
from django.test import Client

from common.breaker import breaker
from common.cache import cache_name
from reactions.models import Reaction
from tests import services
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
    services.use_redis_cache(settings, silent_redis)


@contextmanager
def hang_guard(seconds: int):
    """Fail the test if the block is still running after `seconds` (SIGALRM interrupts even
    a blocking socket read): a ceiling against hanging forever, not a speed check."""

    def hung(signum, frame):
        raise AssertionError(f"still running after {seconds} s: hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_reaction_is_saved_while_redis_hangs(hung_cache, silent_redis, breaker_clock, share):
    # Without socket timeouts this request never finishes. With them, a cache call gives up
    # (REDIS_CACHE_OPTIONS), the cache's breaker opens and the rest of the request skips Redis.
    with hang_guard(120):
        response = Client(HTTP_USER_AGENT=PHONE_UA).post(
            f"/r/{share.token}/react/", {"text": "Works even now."}, follow=True
        )

    assert response.status_code == 200
    assert "Thank you!" in response.content.decode()
    assert Reaction.objects.get().text == "Works even now."
    assert breaker(cache_name([silent_redis])).is_open()


def test_a_full_redis_refuses_writes_and_every_page_still_answers(
    private_redis_cache, owner_client, share, sam
):
    """What the cache only speeds up gives way: the change versions, the kept renders and the
    page-loaded mark go unwritten, and the pages come from the database."""
    share_page = f"/shares/{share.pk}/"
    etag = owner_client.get(share_page, headers={"HX-Request": "true"})["ETag"]
    assert owner_client.get(share_page).status_code == 200  # kept
    private_redis_cache.refuse_writes()

    page = sam.get(f"/r/{share.token}/")
    reacted = sam.post(f"/r/{share.token}/react/", {"text": "Said while Redis was full."})
    poll = owner_client.get(share_page, headers={"HX-Request": "true", "If-None-Match": etag})
    dashboard = owner_client.get("/")

    assert page.status_code == 200
    assert reacted.status_code == 302
    assert Reaction.objects.get().text == "Said while Redis was full."
    assert poll.status_code == 200  # the view, from the database: the reaction is news
    assert poll["ETag"] != etag
    assert dashboard.status_code == 200
    assert "Said while Redis was full." in dashboard.content.decode()
