"""Circuit breakers: after a call to a server fails, stop calling it for a while.

A server that hangs (a stopped process, a partitioned host) costs each call its full socket
timeout. A request makes several such calls, and every request in every worker would pay
them, so the first failure opens the process's breaker for that server: for `cool_off`
seconds callers skip the call and take their fallback at once. The first call after that
tries the server again ("half-open"). Nygard, "Release It!" (2nd ed.), ch. 5.
"""

import logging
import threading
import time

log = logging.getLogger(__name__)

COOL_OFF = 5.0  # seconds a process stops calling a server after a failed call
# The breakers' clock, in seconds; tests replace it with one they move by hand, so that no
# cool-off ends or lasts by how fast the machine runs.
clock = time.monotonic


class CircuitBreaker:
    """One per server and process, shared by its threads."""

    def __init__(self, name: str, cool_off: float = COOL_OFF) -> None:
        self.name = name
        self.cool_off = cool_off
        self.open_until = 0.0
        self._lock = threading.Lock()

    def is_open(self) -> bool:
        return clock() < self.open_until

    def trip(self, error: Exception) -> None:
        """A call failed: skip this server for `cool_off` seconds (logged once an outage)."""
        with self._lock:
            was_closed = not self.is_open()
            self.open_until = clock() + self.cool_off
        if was_closed:
            log.warning("%s failed (%s); skipping it for %s s", self.name, error, self.cool_off)

    def reset(self) -> None:
        self.open_until = 0.0


_breakers: dict[str, CircuitBreaker] = {}
_lock = threading.Lock()


def breaker(name: str) -> CircuitBreaker:
    """This process's breaker for the server called `name`."""
    with _lock:
        return _breakers.setdefault(name, CircuitBreaker(name))


def reset_all() -> None:
    """Close every breaker (for tests, which break and mend servers on purpose)."""
    for each in _breakers.values():
        each.reset()
