"""Change versions in the cache: a token per builder and per share, replaced by every writer
of what a builder's live page shows, so a poll can tell "nothing new" without the database
(`reactions.live`).

A version is a random token, never a count: a flushed or evicted key comes back as a new
token, so it can never match a version read before. Writers replace tokens once their
transaction commits (`changed`): replaced only before, a poll could read the new token with
the old rows and keep the old rows' stamp. Only a shared cache (Redis: `settings.
OUTERLOOP_LIVE_CACHE`) is asked at all; a process-local one can't see the other processes'
writes.

When the cache can't take a write (Redis down or hung, or refusing writes with its memory
full: `common.cache`), the change is owed:
the next time this process reaches the cache it replaces the token of everything
(`EVERYTHING`), which every poll reads too, so no view stays stale once Redis is back. A
process that only failed to read owes it too (`_owe`): a writer elsewhere may die owing.
"""

import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from common.cache import FAILURES, REFUSALS, get_many_setting

# Read with every other version: replaced when a change could not be written.
EVERYTHING = "changes:all"
# Long enough to outlive any page left open; a key that ran out reads as changed.
VERSION_SECONDS = 7 * 24 * 3600

_owed = False  # a change this process could not write yet


def builder_key(builder_id: int) -> str:
    """The version of everything a builder's pages show: any of their links, people,
    sessions, previews, visits, reactions and their own settings."""
    return f"changes:b:{builder_id}"


def own_rows_key(builder_id: int) -> str:
    """The version of the builder's rows above a single link: their settings and account,
    people, sessions and previews. One link's page reads it beside the link's own."""
    return f"changes:o:{builder_id}"


def share_key(share_id: int) -> str:
    """The version of one link: the link, its visits, reactions and in-app activity."""
    return f"changes:s:{share_id}"


def enabled() -> bool:
    """Whether versions are kept at all: only in a cache every process shares."""
    return settings.OUTERLOOP_LIVE_CACHE


def changed(*keys: str) -> None:
    """Replace the tokens of `keys` now and, inside a transaction, again once it commits. The
    second is the one a poll relies on: one between the two may pair the new token with the
    rows as they were, which the second then outdates. The first lets whatever runs in the
    same transaction see the change (a test's). A cache that fails leaves the change owed
    (see the module's docstring)."""
    if not enabled():
        return
    _replace(keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _replace(keys))


def share_changed(share_id: int, builder_id: int) -> None:
    """Something about one link changed (a visit, a reaction, its counting, a fresh-link
    request, in-app activity, the link itself)."""
    changed(share_key(share_id), builder_key(builder_id))


def builder_changed(*builder_ids: int) -> None:
    """Something of these builders' above a single link changed (settings, a person, a
    session, a preview, a merge, a removal, an expiry)."""
    changed(*(key for pk in builder_ids for key in (own_rows_key(pk), builder_key(pk))))


def _token() -> str:
    return secrets.token_hex(8)


def _settle_owed() -> None:
    """Pay an owed change (raises FAILURES when the cache still fails)."""
    global _owed
    if _owed:
        cache.set(EVERYTHING, _token(), VERSION_SECONDS)
        _owed = False


def _replace(keys: Iterable[str]) -> None:
    global _owed
    try:
        _settle_owed()
        cache.set_many({key: _token() for key in keys}, VERSION_SECONDS)
    except REFUSALS:  # Redis away, or refusing writes (a full memory): the change is owed
        _owed = True


def current(keys: Iterable[str]) -> dict[str, str] | None:
    """{key: token} for `keys` and `EVERYTHING`, a missing key given a fresh token first; one
    read when none is missing. None when versions are off or the cache fails: the caller
    then answers from the database alone."""
    return current_and(keys, None)[0]


def current_and(keys: Iterable[str], other: str | None) -> tuple[dict[str, str] | None, Any]:
    """`current(keys)`, and the cache's value at `other` (None if missing) read in the same
    round trip: what was kept under those versions. (None, None) when `current` is None."""
    versions, value, _ = current_setting(keys, other, {}, 0)
    return versions, value


def current_setting(
    keys: Iterable[str], other: str | None, setting: dict[str, Any], seconds: int
) -> tuple[dict[str, str] | None, Any, bool]:
    """`current_and(keys, other)`, and `setting` ({key: value}) written for `seconds` in the
    same round trip (`common.cache.get_many_setting`): (versions, the value at `other`,
    whether `setting` was written). (None, None, False) when versions are off or the cache
    fails."""
    if not enabled():
        return None, None, False
    wanted = [*keys, EVERYTHING]
    try:
        _settle_owed()
        found, written = get_many_setting(
            cache, [*wanted, other] if other else wanted, setting, seconds
        )
        value = found.pop(other, None) if other else None
        for key in wanted:
            if key not in found:
                # add(): two first readers agree on one token, whoever writes it.
                cache.add(key, _token(), VERSION_SECONDS)
                found[key] = cache.get(key)
    except FAILURES:
        _owe()
        return None, None, False
    except REFUSALS:  # a missing version Redis refused to write (a full memory): none to trust
        return None, None, False
    if any(token is None for token in found.values()):
        return None, None, written  # gone again at once (a flush): nothing to rely on
    return found, value, written


def unchanged(versions: dict[str, str]) -> bool:
    """Whether every token in `versions` is still the cache's (no key missing); raises
    FAILURES when the cache fails."""
    try:
        _settle_owed()
        return cache.get_many(list(versions)) == versions
    except FAILURES:
        _owe()
        raise


def _owe() -> None:
    """The cache failed under this process: some writer, here or in another process, may
    have failed to replace its token meanwhile (and may die before it can), so this process
    owes the change too. Every process that served a poll during an outage saw it, and the
    first of them back replaces EVERYTHING: no memo made before the outage is trusted after it."""
    global _owed
    _owed = True
