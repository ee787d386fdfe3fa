"""schemathesis against the API's own OpenAPI document: no request makes the server fail.

One test per operation, generated from /api/v1/openapi.json. Each example goes through the
whole WSGI app (middleware, CSRF, the JSON error handlers) with a valid bearer token, and
again at the builder's real preview or share, so the paths past the 404 are fuzzed too.
Checks: no 5xx, and every response matches the document.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from common import limits
from outerloop.api import auth
from outerloop.models import ApiToken
from reactions.models import Channel, Share
from reactions.sharing import find_or_add_recipient, share_preview
from tests.factories import ReactionFactory, VisitFactory

CHECKS = [checks.not_a_server_error, checks.response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def wsgi_in_the_test_transaction():
    """Keep the test's database connection across requests, as Django's test client does.

    A WSGI request ends by closing connections that are not in autocommit mode; the test's
    transaction is one, and on PostgreSQL closing it would end the test's data with it.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db, owner, wsgi_in_the_test_transaction, monkeypatch) -> dict:
    # Hundreds of requests a minute: lift the per-token limit (tests/test_api.py tests it).
    monkeypatch.setattr(auth, "PER_MINUTE", limits.Limit("api-token", 1_000_000, 60))
    _, raw = ApiToken.issue(owner, "schemathesis")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def existing(preview, owner) -> Share:
    share = share_preview(preview, find_or_add_recipient(owner, "Sam"), Channel.IN_PERSON)
    VisitFactory(share=share, via_qr=True)
    ReactionFactory(share=share)
    return share


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    database=None,  # nothing written to .hypothesis/ in the checkout
    # The token and the rows are meant to be shared by every example of an operation.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_makes_the_api_fail(case, bearer, existing):
    case.call_and_validate(headers=bearer, checks=CHECKS)

    real = {"preview_id": existing.preview_id, "token": existing.token}
    if case.path_parameters and set(case.path_parameters) <= set(real):
        case.path_parameters = {name: real[name] for name in case.path_parameters}
        case.call_and_validate(headers=bearer, checks=CHECKS)
