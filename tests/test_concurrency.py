"""Two beat processes (or a duplicated tick) at the same moment: still one nudge each.

Two threads, each with its own database connection, run `nudge_tick()` at once; eager
Celery sends inside the tick, so both race through the claim and the conditional UPDATE.
"""

from collections import Counter
from datetime import timedelta

import pytest

from common.builders import EmailKind
from common.mail import ClaimStatus, EmailClaim
from outerloop.tasks import nudge_tick
from tests.conftest import NOW
from tests.factories import BuilderFactory
from tests.races import needs_postgres, run_at_once

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]

BUILDERS = 40


def test_two_nudge_ticks_at_once_send_one_email_per_due_builder(time_machine, outbox):
    time_machine.move_to(NOW, tick=False)  # 13:00 in Berlin: everyone here is due
    due = BuilderFactory.create_batch(BUILDERS, time_zone="Europe/Berlin")
    BuilderFactory(time_zone="America/New_York")  # 08:00 there: not due yet

    queued, errors = run_at_once(nudge_tick, nudge_tick)

    assert errors == []
    assert sum(queued) > BUILDERS, "the ticks did not overlap: no race was tested"
    assert Counter(message.to[0] for message in outbox) == {b.email: 1 for b in due}
    claims = EmailClaim.objects.filter(kind=EmailKind.NUDGE)
    assert claims.count() == BUILDERS
    assert set(claims.values_list("status", flat=True)) == {ClaimStatus.SENT}
    assert set(claims.values_list("attempts", flat=True)) == {1}


def test_four_ticks_at_once_still_send_one_each(time_machine, outbox):
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)
    due = BuilderFactory.create_batch(10, time_zone="Europe/Berlin")

    queued, errors = run_at_once(nudge_tick, nudge_tick, nudge_tick, nudge_tick)

    assert errors == []
    assert sum(queued) > len(due), "the ticks did not overlap: no race was tested"
    assert Counter(message.to[0] for message in outbox) == {b.email: 1 for b in due}
