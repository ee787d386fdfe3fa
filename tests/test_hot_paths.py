"""What the recipient's two busiest requests cost (issue 15): the page is one query, compiled
once (common.compiled) and never cached, so it shows every change at once; a reaction counts
its rate limits in one Redis round trip and writes the reaction and its visit in one
transaction. Speed itself is `make bench`'s; these pin the shape that makes it."""

from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common import limits
from common.compiled import CompiledQuery
from reactions.activity import record_in_app
from reactions.limits import REACTIONS_PER_CLIENT, REACTIONS_PER_SHARE
from reactions.models import Reaction, Share, Visit
from tests.conftest import PHONE_UA
from tests.factories import ShareFactory


def page_url(share: Share) -> str:
    return reverse("reactions:recipient-page", args=[share.token])


def react_url(share: Share) -> str:
    return reverse("reactions:recipient-react", args=[share.token])


SHARE_WITH_ALL = CompiledQuery(
    lambda token: (
        Share.objects.select_related("preview__session__builder", "recipient")
        .filter(token=token)
        .order_by()
    )
)


def concrete_values(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


# The one query -------------------------------------------------------------------------------


def test_a_compiled_lookup_finds_what_the_orm_finds_in_one_query(share, django_assert_num_queries):
    share.fresh_link_requested_at = timezone.now()
    share.save()
    expected = Share.objects.select_related("preview__session__builder", "recipient").get(
        pk=share.pk
    )

    with django_assert_num_queries(1):
        found = SHARE_WITH_ALL.first(share.token)
        related = [found.preview, found.preview.session, found.preview.session.builder]
        related.append(found.recipient)

    assert concrete_values(found) == concrete_values(expected)
    wanted = [
        expected.preview,
        expected.preview.session,
        expected.preview.session.builder,
        expected.recipient,
    ]
    assert [concrete_values(each) for each in related] == [concrete_values(w) for w in wanted]
    assert not found._state.adding
    assert found._state.db == "default"


def test_an_unknown_token_finds_nothing_in_one_query(share, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert SHARE_WITH_ALL.first("no-such-token-anywhere") is None


def test_a_compiled_lookup_is_built_once_per_connection_and_run_with_each_value(share):
    other = ShareFactory()
    built = []

    def build(token):
        built.append(token)
        return Share.objects.filter(token=token).order_by()

    query = CompiledQuery(build)

    assert [query.first(share.token), query.first(other.token)] == [share, other]
    assert query.first("no-such-token-anywhere") is None
    assert len(built) == 1


def test_a_lookup_whose_value_the_sql_would_change_is_refused(share):
    contains = CompiledQuery(lambda text: Share.objects.filter(token__contains=text).order_by())

    with pytest.raises(ValueError, match="not an exact lookup"):
        contains.first("abc")


def test_the_page_costs_one_query(sam, share, django_assert_num_queries):
    sam.get(page_url(share))

    with django_assert_num_queries(1):
        response = sam.get(page_url(share))

    assert response.status_code == 200


def test_the_page_shows_every_change_on_the_next_request(sam, share, owner):
    """Nothing of the page is kept between requests: renames and expiry show at once."""
    assert "would like your reaction" in sam.get(page_url(share)).content.decode()
    session = share.preview.session
    session.title = "Plant diary, take two"
    session.save()
    owner.name = "Alexandra"
    owner.save()
    share.preview.expires_at = timezone.now() - timedelta(seconds=1)
    share.preview.save()

    page = sam.get(page_url(share)).content.decode()

    assert "Plant diary, take two" in page
    assert "<bdi>Alexandra</bdi> built something" in page
    assert "This preview has expired." in page


def test_the_chips_keep_the_one_a_refused_form_was_sent_with(sam, share):
    page = sam.post(react_url(share), {"text": "", "chip": "confused"}).content.decode()

    assert 'value="confused" id="id_chip_1" data-starter="Confused — " checked>' in page
    assert page.count(" checked>") == 1
    fresh = sam.get(page_url(share)).content.decode()
    assert " checked>" not in fresh


# One transaction -----------------------------------------------------------------------------


def test_a_reaction_and_the_open_it_confirms_are_written_in_one_transaction(
    sam, share, django_assert_num_queries
):
    # The test runs inside a transaction, so the reaction's own is a savepoint here.
    with CaptureQueriesContext(connection) as queries:
        response = sam.post(react_url(share), {"text": "Clear enough."})

    assert response.status_code == 302
    statements = [query["sql"].split()[0].upper() for query in queries]
    assert statements == ["SELECT", "SAVEPOINT", "INSERT", "INSERT", "RELEASE"]
    assert Reaction.objects.get().text == "Clear enough."
    assert Visit.objects.get().kind == "open"


# One Redis round trip ------------------------------------------------------------------------


def phone(n: int) -> Client:
    return Client(headers={"User-Agent": PHONE_UA}, REMOTE_ADDR=f"198.51.100.{n}")


def test_a_reaction_takes_three_round_trips_two_limits_in_one_and_its_versions(
    private_redis_cache, share
):
    phone(6).post(react_url(share), {"text": "First."})  # loads the script into Redis

    sent = private_redis_cache.commands_sent(
        lambda: phone(7).post(react_url(share), {"text": "Second."})
    )

    # The limits, the touch points this browser reported earlier, the open's dedup key; and,
    # where the live watch keeps change versions (a shared cache), one pipeline (MULTI … EXEC,
    # one round trip) for each of the two writers, the reaction and its visit, replacing the
    # link's and the builder's versions (common.changes; their after-commit pipelines run
    # when the transaction commits, which the test's never does).
    versions, others, inside = [], [], False
    for command in sent:
        name = command.split()[0]
        inside = (inside or name == "MULTI") and name != "EXEC"
        (versions if inside or name == "EXEC" else others).append(command)
    assert [command.split()[0] for command in others] == ["EVALSHA", "GET", "SET"], sent
    assert [command.split()[0] for command in versions].count("MULTI") == 2, sent
    assert all(":changes:" in command for command in versions if command.split()[0] != "MULTI"
               and command.split()[0] != "EXEC"), sent  # fmt: skip
    assert f":rl:{REACTIONS_PER_SHARE.name}:" in sent[0]
    assert f":rl:{REACTIONS_PER_CLIENT.name}:" in sent[0]
    assert Reaction.objects.count() == 2
    assert Visit.objects.count() == 2


def test_limits_counted_by_the_script_refuse_the_21st_reaction_and_read_back(
    private_redis_cache, share
):
    answers = [
        phone(n).post(react_url(share), {"text": f"Thought {n}"}).status_code
        for n in range(REACTIONS_PER_SHARE.count + 1)
    ]

    assert answers == [302] * REACTIONS_PER_SHARE.count + [429]
    assert Reaction.objects.count() == REACTIONS_PER_SHARE.count
    assert limits.count(REACTIONS_PER_SHARE, share.token) == REACTIONS_PER_SHARE.count + 1
    assert limits.exhausted(REACTIONS_PER_SHARE, share.token)
    server = redis.Redis.from_url(private_redis_cache.url)
    window = next(server.scan_iter(match="*:rl:reactions-share:*"))
    assert 0 < server.ttl(window) <= REACTIONS_PER_SHARE.seconds + 5


def test_a_beacon_of_in_app_activity_writes_its_row_without_loading_the_link_again(
    share, django_assert_num_queries
):
    """The widget's beacon comes with the link and its person loaded (reactions.widget): the
    change versions it replaces need nothing more from the database."""
    share = Share.objects.select_related("recipient").get(pk=share.pk)
    record_in_app(share, taps=1, paths=["/"], seconds=4)

    # the row, the row locked, its UPDATE (inside a savepoint, begun and released)
    with django_assert_num_queries(5):
        row = record_in_app(share, taps=2, paths=["/map"], seconds=6)

    row.refresh_from_db()
    assert (row.taps, row.paths, row.seconds) == (3, ["/", "/map"], 10)
