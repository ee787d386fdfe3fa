"""The outbox (common/outbox.py): the one way every kind of email goes out once."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from common import outbox as email_outbox
from common.builders import EmailKind
from common.mail import EmailClaim
from outerloop.emails import nudge_email
from tests.conftest import NOW


def test_every_kind_of_email_has_exactly_one_composer():
    composers = email_outbox.composers()

    assert sorted(composers) == sorted(EmailKind)
    assert all(callable(compose) for compose in composers.values())


def test_a_second_composer_for_a_kind_is_refused():
    with pytest.raises(ImproperlyConfigured, match="nudge email already has a composer"):
        email_outbox.composer(EmailKind.NUDGE)(lambda builder, period: None)

    assert email_outbox.composers()[EmailKind.NUDGE] is nudge_email


def test_the_claims_sweep_queues_only_what_a_request_claimed(owner):
    """A lost nudge, review or notice is found again by its own tick or sweep."""
    for kind in EmailKind:
        EmailClaim.objects.create(builder=owner, kind=kind, period="lost", created_at=NOW)

    lost = EmailClaim.objects.filter(pk__in=email_outbox.lost(NOW + timedelta(minutes=1)))

    assert sorted(lost.values_list("kind", flat=True)) == sorted(
        [EmailKind.PUBLISH, EmailKind.CONFIRM, EmailKind.PASSWORD_RESET, EmailKind.SIGNUP_ATTEMPT]
    )


def test_the_system_check_names_a_kind_no_composer_writes(monkeypatch):
    from outerloop.checks import check_every_email_has_a_composer

    assert check_every_email_has_a_composer(None) == []
    kinds = dict(email_outbox._kinds)
    del kinds[EmailKind.REVIEW]
    monkeypatch.setattr(email_outbox, "_kinds", kinds)

    errors = check_every_email_has_a_composer(None)

    assert [error.id for error in errors] == ["outerloop.E001"]
    assert "review email" in errors[0].msg
