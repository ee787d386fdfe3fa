"""The JSON API under /api/v1/: tokens, each endpoint, every error, the limit, the document.

The token's clients enforce CSRF checks, as the `outerloop` CLI or an AI coding tool would
meet them: the bearer token is the only credential.
"""

import base64
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import schemathesis
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from common import limits
from outerloop.api.auth import WRONG_TOKENS_PER_CLIENT
from outerloop.models import ApiToken, hash_api_token
from reactions.models import Channel, Recipient, Share, VisitKind
from sessions.models import BuildSession, Preview
from tests.conftest import NOW, PHONE_UA, PREVIEW_URL
from tests.factories import ReactionFactory, RecipientFactory, ShareFactory, VisitFactory
from tests.test_previews import CREDENTIALS, GARBLED, NOT_WEB, WHITESPACE, local_only, url_errors

API = "/api/v1"
TTL = timedelta(seconds=settings.OUTERLOOP_PREVIEW_TTL)
UNAUTHORIZED = {
    "error": "unauthorized",
    "detail": "Send a valid token: Authorization: Bearer ol_…",
}
NOT_FOUND = {"error": "not_found", "detail": "No such object of yours."}
RATE_LIMITED = {"error": "rate_limited", "detail": "60 requests a minute per token; slow down."}
NAME_SOMEONE = "Name one person, e.g. “Sam — climbing gym”."
# Exponential moving average of closed days with a two-week half-life (streaks.habit_score).
DECAY = 0.5 ** (1 / 14)


def iso(moment: datetime) -> str:
    """A datetime as the API writes it: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def bearer_client(raw_token: str) -> Client:
    return Client(
        enforce_csrf_checks=True,
        headers={"User-Agent": "outerloop-cli/0.1", "Authorization": f"Bearer {raw_token}"},
    )


def post(client: Client, path: str, body: dict):
    return client.post(f"{API}{path}", body, content_type="application/json")


def get(client: Client, path: str, params: dict | None = None):
    return client.get(f"{API}{path}", params or {})


@pytest.fixture
def token(owner) -> str:
    _, raw = ApiToken.issue(owner, "laptop CLI")
    return raw


@pytest.fixture
def api(token) -> Client:
    return bearer_client(token)


@pytest.fixture
def outsider_api(outsider) -> Client:
    _, raw = ApiToken.issue(outsider, "Riley's laptop")
    return bearer_client(raw)


def web_form_url_errors(owner_client, session, url: str) -> list[str]:
    response = owner_client.post(reverse("sessions:preview-add", args=[session.pk]), {"url": url})
    return url_errors(response)


# Tokens ------------------------------------------------------------------------------------

OPERATIONS = [
    ("post", "/previews", {"url": "https://bouldering.example.dev/"}),
    ("post", "/previews/{preview}/shares", {"recipient": "Kim"}),
    ("post", "/shares", {"url": "https://bouldering.example.dev/", "recipient": "Kim"}),
    ("get", "/today", None),
    ("get", "/reactions", None),
    ("get", "/shares/{share}", None),
]


def call(client: Client, operation: tuple, share: Share):
    method, path, body = operation
    path = path.format(preview=share.preview_id, share=share.token)
    if method == "post":
        return post(client, path, body)
    return get(client, path)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_operation_refuses_a_request_without_a_token(operation, share):
    response = call(Client(enforce_csrf_checks=True), operation, share)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert Preview.objects.count() == 1
    assert Share.objects.count() == 1
    assert not Recipient.objects.filter(name="Kim").exists()


@pytest.mark.parametrize(
    "authorization",
    [
        "Token {raw}",
        "Basic {raw}",
        "{raw}",
        "Bearer",
        "Bearer ",
        "Bearer  {raw}",
        "Bearer {raw}x",
        "Bearer ol_not-a-token-anyone-was-given",
    ],
)
def test_a_wrong_scheme_or_an_unknown_token_is_401(authorization, token, owner):
    client = Client(headers={"Authorization": authorization.format(raw=token)})

    response = get(client, "/today")

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert ApiToken.objects.get().last_used_at is None


def test_the_scheme_is_case_insensitive(token):
    client = Client(headers={"Authorization": f"bearer {token}"})

    assert get(client, "/today").status_code == 200


def test_a_revoked_token_is_401(api, owner):
    ApiToken.objects.filter(builder=owner).update(revoked_at=NOW)

    response = get(api, "/today")

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_a_deactivated_builders_token_is_401(api, owner):
    owner.is_active = False
    owner.save(update_fields=["is_active"])

    response = post(api, "/previews", {"url": "https://bouldering.example.dev/"})

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert not Preview.objects.exists()


def test_a_token_notes_its_last_use_at_most_once_a_minute(api, time_machine):
    row = ApiToken.objects.get()
    assert row.last_used_at is None

    assert get(api, "/today").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at == NOW

    time_machine.move_to(NOW + timedelta(seconds=30), tick=False)
    assert get(api, "/today").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at == NOW

    time_machine.move_to(NOW + timedelta(seconds=61), tick=False)
    assert get(api, "/today").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at == NOW + timedelta(seconds=61)


def test_only_the_hash_of_a_token_is_stored(api, token, owner):
    assert get(api, "/today").status_code == 200  # and after it has been used
    dump = StringIO()
    call_command("dumpdata", stdout=dump)

    row = ApiToken.objects.get()
    assert row.token_hash == hash_api_token(token)
    assert row.token_hash in dump.getvalue()
    assert token not in dump.getvalue()
    assert token[10:] not in dump.getvalue()  # not even the part after the hint
    assert token.startswith("ol_")
    assert len(base64.urlsafe_b64decode(token[3:] + "=")) * 8 == 256


# POST /previews ----------------------------------------------------------------------------


def test_creating_a_preview_logs_a_session_titled_as_asked(api, owner):
    response = post(
        api, "/previews", {"url": "https://bouldering.example.dev/v2", "title": "Boulder log"}
    )

    assert response.status_code == 201
    preview = Preview.objects.get()
    assert preview.session.builder == owner
    assert preview.session.title == "Boulder log"
    assert preview.url == "https://bouldering.example.dev/v2"
    assert preview.created_at == NOW
    assert preview.expires_at == NOW + TTL
    assert response.json() == {
        "id": preview.pk,
        "session_id": preview.session_id,
        "title": "Boulder log",
        "url": "https://bouldering.example.dev/v2",
        "created_at": iso(NOW),
        "expires_at": iso(NOW + TTL),
    }


@pytest.mark.parametrize("title", [None, "", "   "])
def test_without_a_title_the_session_is_named_after_the_host(api, title):
    body = {"url": "https://bouldering.example.dev/v2?x=1"}
    if title is not None:
        body["title"] = title

    response = post(api, "/previews", body)

    assert response.status_code == 201
    assert response.json()["title"] == "bouldering.example.dev"
    assert BuildSession.objects.get().title == "bouldering.example.dev"


def test_a_bare_host_gets_https(api):
    response = post(api, "/previews", {"url": "  bouldering.example.dev/v2  "})

    assert response.status_code == 201
    assert response.json()["url"] == "https://bouldering.example.dev/v2"
    assert Preview.objects.get().url == "https://bouldering.example.dev/v2"


@pytest.mark.parametrize("seconds", [60, 3 * 3600, 7 * 24 * 3600])
def test_ttl_seconds_sets_the_expiry(api, seconds):
    response = post(api, "/previews", {"url": PREVIEW_URL, "ttl_seconds": seconds})

    assert response.status_code == 201
    assert Preview.objects.get().expires_at == NOW + timedelta(seconds=seconds)
    assert response.json()["expires_at"] == iso(NOW + timedelta(seconds=seconds))


@pytest.mark.parametrize("seconds", [0, 59, 7 * 24 * 3600 + 1, -3600])
def test_ttl_seconds_outside_a_minute_to_a_week_is_422(api, seconds):
    response = post(api, "/previews", {"url": PREVIEW_URL, "ttl_seconds": seconds})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid"
    assert [error["loc"][-1] for error in body["detail"]] == ["ttl_seconds"]
    assert not Preview.objects.exists()
    assert not BuildSession.objects.exists()


def test_a_session_id_of_my_own_adds_the_preview_to_it(api, session, preview):
    response = post(
        api, "/previews", {"url": "https://crag-finder.example.dev/v3", "session_id": session.pk}
    )

    assert response.status_code == 201
    assert BuildSession.objects.get() == session
    assert list(session.previews.values_list("url", flat=True)) == [
        "https://crag-finder.example.dev/v3",
        PREVIEW_URL,
    ]
    assert response.json()["session_id"] == session.pk
    assert response.json()["title"] == "Crag finder"


def test_another_builders_session_id_is_404(outsider_api, session, outsider):
    response = post(outsider_api, "/previews", {"url": PREVIEW_URL, "session_id": session.pk})

    assert response.status_code == 404
    assert response.json() == {
        "error": "no_such_session",
        "detail": f"You have no session numbered #{session.pk}.",
    }
    assert not session.previews.exists()
    assert not BuildSession.objects.filter(builder=outsider).exists()


def test_an_unknown_session_id_is_404(api, owner):
    response = post(api, "/previews", {"url": PREVIEW_URL, "session_id": 999_999})

    assert response.status_code == 404
    assert response.json() == {
        "error": "no_such_session",
        "detail": "You have no session numbered #999999.",
    }
    assert not BuildSession.objects.exists()


def test_a_url_already_in_a_session_adds_its_new_preview_to_that_session(api, preview, session):
    response = post(api, "/previews", {"url": "crag-finder.example.dev/today?build=42"})

    assert response.status_code == 201
    assert response.json()["session_id"] == session.pk
    assert BuildSession.objects.get() == session
    assert session.previews.count() == 2


@pytest.mark.parametrize(
    ("body", "joins"),
    [
        ({"session": "crag finder"}, True),
        ({"title": "CRAG FINDER"}, True),
        ({"new_session": True}, False),
        ({"title": "Crag finder v2"}, False),
    ],
)
def test_a_preview_goes_where_the_builder_says(api, preview, session, body, joins):
    response = post(api, "/previews", {"url": PREVIEW_URL, **body})

    assert response.status_code == 201
    assert (response.json()["session_id"] == session.pk) is joins
    assert BuildSession.objects.count() == (1 if joins else 2)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(document.cookie)", NOT_WEB),
        ("JavaScript:alert(1)", NOT_WEB),
        ("data:text/html,<h1>hi</h1>", NOT_WEB),
        ("file:///etc/passwd", NOT_WEB),
        ("ftp://files.example.com/build.zip", NOT_WEB),
        ("https://alex:hunter2@crag-finder.example.dev/", CREDENTIALS),
        ("https://alex@crag-finder.example.dev/", CREDENTIALS),
        ("https://crag finder.example.dev/", WHITESPACE),
        ("https://crag-finder.example.dev/a\tb", WHITESPACE),
        ("https://crag-finder.example.dev/\x01", WHITESPACE),
        ("http://localhost:3000/", local_only(3000)),
        ("localhost:3000", local_only(3000)),
        ("http://127.0.0.1:8000/", local_only(8000)),
        ("http://[::1]:8000/", local_only(8000)),
        ("http://app.localhost/", local_only(80)),
        ("https://[not-an-ip]/", GARBLED),
        ("https://", GARBLED),
        (
            "https://" + "a" * 2041 + ".dev",
            "That URL is 2,053 characters long; the limit is 2,048.",
        ),
        (
            "https://example.dev/" + "a" * 10_000,
            "That URL is 10,020 characters long; the limit is 2,048.",
        ),
    ],
)
def test_a_rejected_url_says_what_the_web_form_says(url, message, api, owner_client, session):
    response = post(api, "/previews", {"url": url, "title": "Nope"})

    assert response.status_code == 422
    assert response.json() == {"error": "invalid_url", "detail": message}
    assert web_form_url_errors(owner_client, session, url) == [message]
    assert not Preview.objects.exists()
    assert BuildSession.objects.get() == session  # the web form's; the API logged none


def test_a_url_at_the_length_limit_is_accepted(api):
    url = "https://example.dev/" + "a" * (2048 - len("https://example.dev/"))

    response = post(api, "/previews", {"url": url})

    assert response.status_code == 201
    assert Preview.objects.get().url == url


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": None}, "url"),
        ({"url": 42}, "url"),
        ({"url": PREVIEW_URL, "title": "x" * 121}, "title"),
        ({"url": PREVIEW_URL, "title": "Crag\x00finder"}, "title"),
        ({"url": PREVIEW_URL, "session_id": "mine"}, "session_id"),
        ({"url": PREVIEW_URL, "ttl_seconds": "an hour"}, "ttl_seconds"),
    ],
)
def test_a_missing_or_mistyped_field_is_422(api, body, field):
    response = post(api, "/previews", body)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]
    assert not Preview.objects.exists()


@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        ('{"url": "https://a.dev"', "application/json"),
        ("url=https%3A%2F%2Fa.dev", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_that_is_not_json_is_400(api, payload, content_type):
    response = api.post(f"{API}/previews", payload, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == {"error": "error", "detail": "Cannot parse request body"}
    assert not Preview.objects.exists()


# POST /previews/{id}/shares ----------------------------------------------------------------


def test_sharing_a_preview_returns_the_link_and_its_qr_code(api, preview, owner):
    response = post(api, f"/previews/{preview.pk}/shares", {"recipient": "Sam"})

    assert response.status_code == 201
    share = Share.objects.get()
    body = response.json()
    link = f"{settings.OUTERLOOP_BASE_URL}/r/{share.token}/"
    assert body == {
        "id": share.pk,
        "url": link,
        "token": share.token,
        "recipient": "Sam",
        "day": "2026-03-10",
        "recipient_note": "",
        "expires_at": iso(NOW + TTL),
        "qr_svg": body["qr_svg"],
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]+", share.token)
    assert len(base64.urlsafe_b64decode(share.token + "=" * (-len(share.token) % 4))) * 8 >= 128
    assert body["qr_svg"].startswith("<svg ")
    assert body["qr_svg"].rstrip().endswith("</svg>")
    assert f"<title>QR code for {link}</title>" in body["qr_svg"]
    assert (share.preview, share.channel, share.sent_at) == (preview, Channel.DM, NOW)
    assert share.day == owner.local_day(NOW)
    assert share.recipient == Recipient.objects.get(builder=owner, name="Sam")
    assert not share.recipient.lives_with
    # The link opens for the person it was made for.
    assert Client(headers={"User-Agent": PHONE_UA}).get(f"/r/{share.token}/").status_code == 200


def test_a_new_name_creates_the_person_with_their_spaces_tidied(api, preview, owner):
    response = post(
        api,
        f"/previews/{preview.pk}/shares",
        {"recipient": "  Jo   Lee ", "channel": "in_person", "lives_with": True},
    )

    assert response.status_code == 201
    assert response.json()["recipient"] == "Jo Lee"
    person = Recipient.objects.get(builder=owner)
    assert (person.name, person.lives_with) == ("Jo Lee", True)
    assert Share.objects.get().channel == Channel.IN_PERSON


def test_a_known_name_is_the_same_person_in_any_letter_case(api, preview, recipient):
    response = post(api, f"/previews/{preview.pk}/shares", {"recipient": "sAM"})

    assert response.status_code == 201
    assert response.json()["recipient"] == "Sam"
    assert list(Recipient.objects.all()) == [recipient]
    assert Share.objects.get().recipient == recipient


def test_a_name_the_database_folds_to_a_known_one_is_that_person_not_a_crash(api, preview, owner):
    """One person per lower-cased name, as the unique constraint decides: with Unicode case
    rules (PostgreSQL) “SAMİ” is Sami; with ASCII ones (SQLite) it is somebody new."""
    sami = RecipientFactory(builder=owner, name="Sami")
    with connection.cursor() as cursor:
        cursor.execute("SELECT LOWER(%s) = LOWER(%s)", ["SAMİ", "Sami"])
        folds = bool(cursor.fetchone()[0])

    response = post(api, f"/previews/{preview.pk}/shares", {"recipient": "SAMİ"})

    assert response.status_code == 201
    assert response.json()["recipient"] == ("Sami" if folds else "SAMİ")
    assert (Share.objects.get().recipient == sami) is folds
    assert Recipient.objects.count() == (1 if folds else 2)


def test_lives_with_marks_a_known_person(api, preview, recipient):
    response = post(api, f"/previews/{preview.pk}/shares", {"recipient": "Sam", "lives_with": True})

    assert response.status_code == 201
    recipient.refresh_from_db()
    assert recipient.lives_with


def test_another_builders_person_of_the_same_name_is_not_reused(api, preview, owner, outsider):
    theirs = RecipientFactory(builder=outsider, name="Sam")

    assert post(api, f"/previews/{preview.pk}/shares", {"recipient": "Sam"}).status_code == 201

    assert Share.objects.get().recipient.builder == owner
    assert not theirs.shares.exists()


@pytest.mark.parametrize("channel", [choice.value for choice in Channel])
def test_every_channel_is_accepted(api, preview, channel):
    response = post(api, f"/previews/{preview.pk}/shares", {"recipient": "Sam", "channel": channel})

    assert response.status_code == 201
    assert Share.objects.get().channel == channel


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recipient": "Sam", "channel": "carrier_pigeon"}, "channel"),
        ({"recipient": "Sam", "channel": "DM"}, "channel"),
        ({"recipient": ""}, "recipient"),
        ({}, "recipient"),
        ({"recipient": "x" * 161}, "recipient"),
        ({"recipient": "Sa\x00m"}, "recipient"),
        ({"recipient": "Sam", "lives_with": "sometimes"}, "lives_with"),
    ],
)
def test_a_bad_share_field_is_422(api, preview, body, field):
    response = post(api, f"/previews/{preview.pk}/shares", body)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]
    assert not Share.objects.exists()
    assert not Recipient.objects.exists()


@pytest.mark.parametrize("name", [" ", "   \t  ", "\n"])
def test_a_blank_name_is_422_with_the_web_forms_words(api, preview, name):
    response = post(api, f"/previews/{preview.pk}/shares", {"recipient": name})

    assert response.status_code == 422
    assert response.json() == {"error": "invalid", "detail": NAME_SOMEONE}
    assert not Share.objects.exists()
    assert not Recipient.objects.exists()


def test_sharing_another_builders_preview_is_404(outsider_api, preview, outsider):
    response = post(outsider_api, f"/previews/{preview.pk}/shares", {"recipient": "Sam"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert not Share.objects.exists()
    assert not Recipient.objects.exists()


@pytest.mark.parametrize("preview_id", ["999999", "-1", str(2**64)])
def test_sharing_an_unknown_preview_is_404(api, preview_id, owner):
    response = post(api, f"/previews/{preview_id}/shares", {"recipient": "Sam"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_sharing_an_expired_preview_renews_it_first(api, preview, session, time_machine):
    later = NOW + TTL + timedelta(hours=5)
    time_machine.move_to(later, tick=False)

    response = post(api, f"/previews/{preview.pk}/shares", {"recipient": "Sam"})

    assert response.status_code == 201
    renewed = Preview.objects.exclude(pk=preview.pk).get()
    assert (renewed.session, renewed.url) == (session, PREVIEW_URL)
    assert (renewed.created_at, renewed.expires_at) == (later, later + TTL)
    assert not renewed.is_expired
    assert Share.objects.get().preview == renewed
    assert response.json()["expires_at"] == iso(later + TTL)
    preview.refresh_from_db()
    assert preview.expires_at == NOW + TTL  # the old one stays expired


# POST /shares: the turn in one request -----------------------------------------------------

COUNTED = (BuildSession, Preview, Recipient, Share)


def rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def turn_body(**fields) -> dict:
    return {"url": "https://myapp.vercel.app/", "recipient": "Sam", **fields}


def test_a_turn_makes_the_session_the_preview_the_person_and_the_link(api, owner):
    response = post(api, "/shares", turn_body(title="My app", channel="text"))

    assert response.status_code == 201
    share = Share.objects.select_related("preview__session", "recipient").get()
    body = response.json()
    assert body == {
        "id": share.pk,
        "url": f"{settings.OUTERLOOP_BASE_URL}/r/{share.token}/",
        "token": share.token,
        "recipient": "Sam",
        "recipient_note": "",
        "day": "2026-03-10",
        "expires_at": iso(NOW + TTL),
        "qr_svg": body["qr_svg"],
        "preview_id": share.preview_id,
        "session_id": share.preview.session_id,
        "title": "My app",
        "session_match": "new",
    }
    assert share.preview.url == "https://myapp.vercel.app/"
    assert share.preview.session.builder == owner
    assert (share.recipient.name, share.channel) == ("Sam", Channel.TEXT)


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (turn_body(recipient=""), 422, "invalid"),
        (turn_body(recipient="   "), 422, "invalid"),
        (turn_body(recipient="x" * 161), 422, "invalid"),
        (turn_body(recipient="Sam — " + "x" * 81), 422, "invalid"),
        (turn_body(recipient="Sa\x00m"), 422, "invalid"),
        ({"url": "https://myapp.vercel.app/"}, 422, "invalid"),
        ({"recipient": "Sam"}, 422, "invalid"),
        (turn_body(url=""), 422, "invalid_url"),
        (turn_body(url="javascript:alert(1)"), 422, "invalid_url"),
        (turn_body(url="http://localhost:3000/"), 422, "invalid_url"),
        (turn_body(url=42), 422, "invalid"),
        (turn_body(title="x" * 121), 422, "invalid"),
        (turn_body(title="My\x00app"), 422, "invalid"),
        (turn_body(channel="carrier_pigeon"), 422, "invalid"),
        (turn_body(lives_with="sometimes"), 422, "invalid"),
        (turn_body(frameable="sometimes"), 422, "invalid"),
        (turn_body(ttl_seconds=59), 422, "invalid"),
        (turn_body(ttl_seconds=7 * 24 * 3600 + 1), 422, "invalid"),
        (turn_body(session=""), 422, "invalid"),
        (turn_body(session="Nothing of mine"), 404, "no_such_session"),
        (turn_body(session="#999999"), 404, "no_such_session"),
        (turn_body(session_id=999_999), 404, "no_such_session"),
        (turn_body(session_id=2**64), 404, "no_such_session"),
        (turn_body(session="#" + "9" * 30), 404, "no_such_session"),
        (turn_body(session_id="mine"), 422, "invalid"),
        (turn_body(new_session="please"), 422, "invalid"),
        (turn_body(session="My app", title="My app"), 422, "invalid_session"),
        (turn_body(session="My app", new_session=True), 422, "invalid_session"),
        (turn_body(session="My app", session_id=1), 422, "invalid_session"),
    ],
)
def test_a_refused_turn_leaves_nothing_behind(api, body, status, error):
    """Issue 12: a refused share left a session "shown to 0 people" behind."""
    response = post(api, "/shares", body)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert rows() == {"BuildSession": 0, "Preview": 0, "Recipient": 0, "Share": 0}


def test_a_refused_turn_adds_nothing_to_an_existing_session(api, share):
    before = rows()

    response = post(api, "/shares", turn_body(url=PREVIEW_URL, recipient=""))

    assert response.status_code == 422
    assert rows() == before


@pytest.mark.parametrize(
    ("path", "body", "broken"),
    [
        ("/shares", turn_body(), "reactions.sharing.share_preview"),
        ("/shares", turn_body(recipient="Kim"), "reactions.sharing.share_preview"),
        (
            "/previews",
            {"url": "https://myapp.vercel.app/"},
            "sessions.models.Preview.objects.create",
        ),
    ],
)
def test_a_failure_while_writing_leaves_nothing_behind(token, monkeypatch, path, body, broken):
    """Everything a request writes is one transaction: a failure at its last write undoes
    the session (and the person) written before it."""

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(broken, fail)
    client = bearer_client(token)
    client.raise_request_exception = False

    assert post(client, path, body).status_code == 500
    assert rows() == {"BuildSession": 0, "Preview": 0, "Recipient": 0, "Share": 0}


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({}, "url"),
        ({"url": "HTTPS://MyApp.Vercel.App"}, "url"),
        ({"title": "my APP"}, "title"),
        ({"session": "My app"}, "asked"),
        ({"session": "#{id}"}, "asked"),
        ({"session": "{id}"}, "asked"),
        ({"session_id": "{id}"}, "asked"),
    ],
)
def test_a_url_or_title_already_in_a_session_joins_it(api, owner, fields, match):
    mine = BuildSession.objects.create(builder=owner, title="My app")
    live = mine.add_preview("https://myapp.vercel.app")
    fields = {
        key: int(value.format(id=mine.pk)) if key == "session_id" else value.format(id=mine.pk)
        for key, value in fields.items()
    }

    response = post(api, "/shares", turn_body(**fields))

    assert response.status_code == 201
    assert response.json()["session_match"] == match
    assert response.json()["session_id"] == mine.pk
    assert response.json()["title"] == "My app"
    assert Share.objects.get().preview == live  # still live: the same preview again
    assert BuildSession.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "title"),
    [
        ({"new_session": True}, "myapp.vercel.app"),
        ({"new_session": True, "title": "My app"}, "My app"),
        ({"title": "My app, settings screen"}, "My app, settings screen"),
    ],
)
def test_a_new_session_when_the_builder_says_so(api, owner, fields, title):
    mine = BuildSession.objects.create(builder=owner, title="My app")
    mine.add_preview("https://myapp.vercel.app")

    response = post(api, "/shares", turn_body(**fields))

    assert response.status_code == 201
    assert response.json()["session_match"] == "new"
    share = Share.objects.get()
    assert share.preview.session != mine
    assert share.preview.session.title == title
    assert BuildSession.objects.count() == 2


def test_ttl_seconds_makes_a_preview_of_that_lifetime_in_the_same_session(api, preview, session):
    response = post(api, "/shares", turn_body(url=PREVIEW_URL, ttl_seconds=3 * 3600))

    assert response.status_code == 201
    share = Share.objects.get()
    assert share.preview != preview
    assert share.preview.session == session
    assert share.preview.expires_at == NOW + timedelta(hours=3)


def test_another_builders_session_is_never_joined(api, outsider):
    theirs = BuildSession.objects.create(builder=outsider, title="My app")
    theirs.add_preview("https://myapp.vercel.app/")

    by_url = post(api, "/shares", turn_body())
    by_title = post(api, "/shares", turn_body(session="My app", recipient="Kim"))
    by_number = post(api, "/shares", turn_body(session=f"#{theirs.pk}", recipient="Kim"))

    assert by_url.json()["session_match"] == "new"
    assert by_url.json()["session_id"] != theirs.pk
    assert by_title.status_code == by_number.status_code == 404
    assert by_title.json()["detail"] == "You have no session called “My app”."
    assert not theirs.previews.filter(shares__isnull=False).exists()


@pytest.mark.parametrize("count", [3, 30])
def test_a_turn_takes_the_same_queries_however_many_previews_of_its_url(
    api, session, count, django_assert_num_queries
):
    for _ in range(count):
        session.add_preview(PREVIEW_URL)
    post(api, "/shares", turn_body(url=PREVIEW_URL))  # the person is new the first time

    # The token, the URL's newest candidates, the preview, the person, the day, the share,
    # the person's older links it renews (`Share.replaced_by`); and the two transactions'
    # savepoints (inside the test's own).
    with django_assert_num_queries(11):
        response = post(api, "/shares", turn_body(url=PREVIEW_URL))

    assert response.json()["session_match"] == "url"


# GET /today --------------------------------------------------------------------------------


def share_on(recipient, day: int, *, reacted: bool) -> Share:
    """A share sent on 2026-03-<day> at noon in Berlin, reacted to half an hour later or not."""
    share = ShareFactory(recipient=recipient, sent_at=datetime(2026, 3, day, 11, tzinfo=UTC))
    if reacted:
        ReactionFactory(share=share, created_at=share.sent_at + timedelta(minutes=30))
    return share


def test_today_before_anything_is_sent(api):
    response = get(api, "/today")

    assert response.status_code == 200
    assert response.json() == {
        "day": "2026-03-10",
        "local_day": "2026-03-10",
        "time_zone": "Europe/Berlin",
        "status": "nothing_sent",
        "current_streak": 0,
        "best_streak": 0,
        "habit_score": 0.0,
    }


def test_today_waits_for_a_reaction_to_a_link_sent_today(api, share):
    assert get(api, "/today").json() == {
        "day": "2026-03-10",
        "local_day": "2026-03-10",
        "time_zone": "Europe/Berlin",
        "status": "waiting",
        "current_streak": 0,
        "best_streak": 0,
        "habit_score": 0.0,
    }


def test_today_closes_with_a_reaction_and_counts_the_streaks(api, recipient):
    for day in (1, 2, 3, 4, 8, 9, 10):  # 4 closed, 3 missed, then 3 closed ending today
        share_on(recipient, day, reacted=True)

    assert get(api, "/today").json() == {
        "day": "2026-03-10",
        "local_day": "2026-03-10",
        "time_zone": "Europe/Berlin",
        "status": "closed",
        "current_streak": 3,
        "best_streak": 4,
        "habit_score": round((1 - DECAY**4) * DECAY**6 + (1 - DECAY**3), 4),
    }


def test_today_is_the_builders_own_day(api, outsider_api, recipient, outsider, time_machine):
    share_on(recipient, 10, reacted=True)
    ShareFactory(recipient__builder=outsider, sent_at=NOW)

    # 23:30 in Berlin is still the 10th for Alex; 18:30 in New York is the 10th for Riley.
    time_machine.move_to(datetime(2026, 3, 10, 22, 30, tzinfo=UTC), tick=False)
    assert get(api, "/today").json()["day"] == "2026-03-10"
    assert get(api, "/today").json()["status"] == "closed"
    assert get(outsider_api, "/today").json()["status"] == "waiting"

    # 00:30 in Berlin: a new day with nothing sent yet, and yesterday's turn still counts.
    time_machine.move_to(datetime(2026, 3, 10, 23, 30, tzinfo=UTC), tick=False)
    assert get(api, "/today").json() == {
        "day": "2026-03-11",
        "local_day": "2026-03-11",
        "time_zone": "Europe/Berlin",
        "status": "nothing_sent",
        "current_streak": 1,
        "best_streak": 1,
        "habit_score": round(1 - DECAY, 4),
    }
    assert get(outsider_api, "/today").json()["day"] == "2026-03-10"


# GET /reactions ----------------------------------------------------------------------------


def test_reactions_are_listed_newest_first_with_what_a_client_shows(api, share, recipient):
    older = ReactionFactory(
        share=share, text="Where do I log a climb?", chip="confused", created_at=NOW
    )
    newer = ReactionFactory(
        share=share,
        text="Love the big button",
        chip="love",
        device_class="phone",
        created_at=NOW + timedelta(minutes=5),
    )

    response = get(api, "/reactions")

    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "items": [
            {
                "id": newer.pk,
                "text": "Love the big button",
                "chip": "love",
                "recipient": "Sam",
                "recipient_note": "",
                "title": "Crag finder",
                "share_token": share.token,
                "device_class": "phone",
                "counts": True,
                "created_at": iso(NOW + timedelta(minutes=5)),
            },
            {
                "id": older.pk,
                "text": "Where do I log a climb?",
                "chip": "confused",
                "recipient": "Sam",
                "recipient_note": "",
                "title": "Crag finder",
                "share_token": share.token,
                "device_class": "",
                "counts": True,
                "created_at": iso(NOW),
            },
        ],
    }


def test_reactions_say_which_ones_count(api, owner, share):
    housemate = RecipientFactory(builder=owner, name="Pat", lives_with=True)
    mine = ReactionFactory(share=share, by_builder=True, created_at=NOW)
    polite = ReactionFactory(share=share, counts=False, created_at=NOW)
    from_housemate = ReactionFactory(
        share=ShareFactory(recipient=housemate, preview=share.preview), created_at=NOW
    )
    real = ReactionFactory(share=share, created_at=NOW)

    items = get(api, "/reactions").json()["items"]

    assert {item["id"]: item["counts"] for item in items} == {
        mine.pk: False,
        polite.pk: False,
        from_housemate.pk: False,
        real.pk: True,
    }
    assert [item["id"] for item in items] == [real.pk, from_housemate.pk, polite.pk, mine.pk]


def test_reactions_are_paginated_by_limit_and_offset(api, share):
    reactions = [
        ReactionFactory(share=share, created_at=NOW - timedelta(minutes=minutes))
        for minutes in range(5)
    ]  # newest first

    def page(**params) -> tuple[int, list[int]]:
        body = get(api, "/reactions", params).json()
        return body["count"], [item["id"] for item in body["items"]]

    ids = [reaction.pk for reaction in reactions]
    assert page() == (5, ids)
    assert page(limit=2) == (5, ids[:2])
    assert page(limit=2, offset=2) == (5, ids[2:4])
    assert page(limit=2, offset=4) == (5, ids[4:])
    assert page(offset=5) == (5, [])
    assert page(limit=1, offset=2**63 - 1) == (5, [])


def test_since_keeps_reactions_strictly_after_it(api, share):
    ReactionFactory(share=share, text="at eleven", created_at=datetime(2026, 3, 10, 11, tzinfo=UTC))
    ReactionFactory(
        share=share, text="at half past", created_at=datetime(2026, 3, 10, 11, 30, tzinfo=UTC)
    )
    ReactionFactory(
        share=share, text="at quarter to", created_at=datetime(2026, 3, 10, 11, 45, tzinfo=UTC)
    )

    def texts(since: str) -> list[str]:
        response = get(api, "/reactions", {"since": since})
        assert response.status_code == 200
        assert response.json()["count"] == len(response.json()["items"])
        return [item["text"] for item in response.json()["items"]]

    assert texts("2026-03-10T11:30:00Z") == ["at quarter to"]
    assert texts("2026-03-10T11:29:59.999Z") == ["at quarter to", "at half past"]
    assert texts("2026-03-10T12:30:00+01:00") == ["at quarter to"]
    assert texts("2026-03-10T07:30:00-04:00") == ["at quarter to"]
    assert texts("2026-03-10T11:30:00") == ["at quarter to"]  # naive: UTC
    assert texts("2026-03-10T11:45:00") == []
    assert texts("2026-03-10") == ["at quarter to", "at half past", "at eleven"]
    assert texts("0001-01-01T00:00:00Z") == ["at quarter to", "at half past", "at eleven"]


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"since": "2026-02-30T10:00:00Z"},
        {"since": "2026-03-10T25:00:00Z"},
        {"since": "0001-01-01T00:00:00+05:00"},  # before year 1 in UTC
        {"since": "9999-12-31T23:00:00-05:00"},  # after year 9999 in UTC
        {"limit": 0},
        {"limit": "ten"},
        {"offset": -1},
        {"offset": 2**63},
        {"limit": 10**30},
    ],
)
def test_bad_since_or_paging_is_422(api, share, params):
    ReactionFactory(share=share)

    response = get(api, "/reactions", params)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    assert [error["loc"] for error in response.json()["detail"]] == [["query", *params]]


def test_another_builders_reactions_never_appear(api, outsider_api, share, outsider):
    mine = ReactionFactory(share=share, created_at=NOW)
    theirs = ReactionFactory(share__recipient__builder=outsider, created_at=NOW)

    assert get(api, "/reactions").json()["count"] == 1
    assert [item["id"] for item in get(api, "/reactions").json()["items"]] == [mine.pk]
    assert [item["id"] for item in get(outsider_api, "/reactions").json()["items"]] == [theirs.pk]
    assert get(api, "/reactions", {"since": "2000-01-01T00:00:00Z"}).json()["count"] == 1


# GET /shares/{token} -----------------------------------------------------------------------


def test_a_share_comes_with_its_events_in_time_order(api, share, preview):
    def at(minutes: int) -> datetime:
        return NOW + timedelta(minutes=minutes)

    # Written out of order: the API sorts by time, whatever the kind.
    ReactionFactory(share=share, text="Love the big button", device_class="phone", created_at=at(8))
    VisitFactory(share=share, kind=VisitKind.RETURN, at=at(50), device_class="phone")
    VisitFactory(share=share, kind=VisitKind.OPEN, at=at(5), device_class="phone", via_qr=True)
    VisitFactory(share=share, kind=VisitKind.TAP, at=at(6), device_class="phone")
    VisitFactory(
        share=share, kind=VisitKind.OPEN, at=at(1), device_class="desktop", by_builder=True
    )

    response = get(api, f"/shares/{share.token}")

    assert response.status_code == 200
    body = response.json()
    link = f"{settings.OUTERLOOP_BASE_URL}/r/{share.token}/"
    assert body == {
        "id": share.pk,
        "url": link,
        "token": share.token,
        "recipient": "Sam",
        "day": "2026-03-10",
        "recipient_note": "",
        "expires_at": iso(preview.expires_at),
        "qr_svg": body["qr_svg"],
        "title": "Crag finder",
        "channel": "dm",
        "sent_at": iso(NOW),
        "expired": False,
        "fresh_link_requested_at": None,
        "events": [
            {
                "kind": "open",
                "at": iso(at(1)),
                "device_class": "desktop",
                "by_builder": True,
                "in_person": False,
                "text": None,
            },
            {
                "kind": "open",
                "at": iso(at(5)),
                "device_class": "phone",
                "by_builder": False,
                "in_person": True,
                "text": None,
            },
            {
                "kind": "tap",
                "at": iso(at(6)),
                "device_class": "phone",
                "by_builder": False,
                "in_person": False,
                "text": None,
            },
            {
                "kind": "reaction",
                "at": iso(at(8)),
                "device_class": "phone",
                "by_builder": False,
                "in_person": False,
                "text": "Love the big button",
            },
            {
                "kind": "return",
                "at": iso(at(50)),
                "device_class": "phone",
                "by_builder": False,
                "in_person": False,
                "text": None,
            },
        ],
    }
    assert body["qr_svg"].startswith("<svg ")
    assert f"<title>QR code for {link}</title>" in body["qr_svg"]


def test_a_share_says_when_it_has_expired_and_a_fresh_link_was_asked_for(api, share, time_machine):
    asked = NOW + TTL + timedelta(minutes=10)
    Share.objects.filter(pk=share.pk).update(fresh_link_requested_at=asked)
    time_machine.move_to(asked + timedelta(minutes=1), tick=False)

    body = get(api, f"/shares/{share.token}").json()

    assert body["expired"] is True
    assert body["fresh_link_requested_at"] == iso(asked)
    assert body["events"] == []


def test_another_builders_share_is_404(outsider_api, share):
    ReactionFactory(share=share, text="for Alex's eyes only")

    response = get(outsider_api, f"/shares/{share.token}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert "for Alex" not in response.content.decode()


@pytest.mark.parametrize("unknown", ["ol_nope", "a" * 32, "x" * 500, "%E2%98%83"])
def test_an_unknown_share_is_404(api, share, unknown):
    response = get(api, f"/shares/{unknown}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_a_share_token_with_a_nul_is_422_not_a_crash(api, share):
    response = get(api, f"/shares/{share.token}%00")

    assert response.status_code == 422
    assert response.json()["error"] == "invalid"


# 60 requests a minute per token ------------------------------------------------------------


def test_sixty_requests_a_minute_then_429_per_token(api, owner, time_machine):
    for _ in range(60):
        assert get(api, "/today").status_code == 200

    response = post(api, "/previews", {"url": PREVIEW_URL})

    assert response.status_code == 429
    assert response.json() == RATE_LIMITED
    assert response["Retry-After"] == "60"
    assert not Preview.objects.exists()
    assert get(api, "/reactions").status_code == 429

    # Another token of the same builder has a budget of its own...
    _, second = ApiToken.issue(owner, "CI")
    assert get(bearer_client(second), "/today").status_code == 200

    # ...and the first one is welcome again the next minute.
    time_machine.move_to(NOW + timedelta(seconds=60), tick=False)
    assert get(api, "/today").status_code == 200


# Guessing tokens: wrong ones, per client -------------------------------------------------

WRONG_TOKENS = {
    "error": "rate_limited",
    "detail": "Too many wrong tokens from your address; check the token and try again "
    "in 10 minutes.",
}
GUESSER = "203.0.113.7"


def from_address(ip: str, raw_token: str | None = None) -> Client:
    headers = {"User-Agent": "outerloop-cli/0.1"}
    if raw_token is not None:
        headers["Authorization"] = f"Bearer {raw_token}"
    return Client(enforce_csrf_checks=True, headers=headers, REMOTE_ADDR=ip)


def guess(ip: str, count: int) -> list[int]:
    return [get(from_address(ip, f"ol_guess-{n}"), "/today").status_code for n in range(count)]


def test_wrong_tokens_past_the_limit_get_429_from_that_client(token, time_machine):
    assert guess(GUESSER, WRONG_TOKENS_PER_CLIENT.count) == [401] * WRONG_TOKENS_PER_CLIENT.count

    response = get(from_address(GUESSER, "ol_guess-one-more"), "/today")

    assert response.status_code == 429
    assert response.json() == WRONG_TOKENS
    assert response["Retry-After"] == "600"
    refused = post(from_address(GUESSER, "ol_guess-again"), "/previews", {"url": PREVIEW_URL})
    assert refused.status_code == 429
    assert not Preview.objects.exists()
    # Another address has its own count; a request with no token at all is no guess.
    assert get(from_address("203.0.113.8", "ol_elsewhere"), "/today").status_code == 401
    assert get(from_address(GUESSER), "/today").status_code == 401

    time_machine.move_to(NOW + timedelta(seconds=WRONG_TOKENS_PER_CLIENT.seconds), tick=False)
    assert get(from_address(GUESSER, "ol_guess-later"), "/today").status_code == 401


def test_a_valid_token_still_works_from_any_client(token):
    guess(GUESSER, WRONG_TOKENS_PER_CLIENT.count + 5)

    assert get(from_address("198.51.100.20", token), "/today").status_code == 200
    # The guesser's address may be an office's or a CI runner's: its own builders get in.
    assert get(from_address(GUESSER, token), "/today").status_code == 200
    assert ApiToken.objects.get().last_used_at == NOW


def test_revoked_tokens_count_as_wrong(token):
    ApiToken.objects.update(revoked_at=NOW)
    statuses = [
        get(from_address(GUESSER, token), "/today").status_code
        for _ in range(WRONG_TOKENS_PER_CLIENT.count + 1)
    ]

    assert statuses == [401] * WRONG_TOKENS_PER_CLIENT.count + [429]


def test_requests_without_a_bearer_token_are_not_guesses(token):
    for authorization in ["", "Token ol_x", "Basic b2w6eA=="] * 15:
        client = Client(headers={"Authorization": authorization}, REMOTE_ADDR=GUESSER)
        assert get(client, "/today").status_code == 401

    assert get(from_address(GUESSER, "ol_first-guess"), "/today").status_code == 401


def cache_keys() -> list[str]:
    store = cache._cache
    if isinstance(store, dict):  # LocMemCache
        return list(store)
    return [key.decode() for key in store.get_client().keys("*")]  # RedisCache


def test_wrong_tokens_are_counted_by_hashed_client_never_by_address(token):
    guess(GUESSER, 3)

    keys = [key for key in cache_keys() if WRONG_TOKENS_PER_CLIENT.name in key]
    hashed = limits.client_id(RequestFactory().get("/", REMOTE_ADDR=GUESSER))
    assert len(keys) == 1
    assert hashed in keys[0]
    assert cache.get(keys[0].split(":", 2)[-1]) == 3  # the key without the cache's own prefix
    assert not [key for key in cache_keys() if GUESSER in key]


# The OpenAPI document and the docs ---------------------------------------------------------


def test_the_openapi_document_lists_seven_operations_behind_a_bearer_token(client):
    response = client.get(f"{API}/openapi.json")

    assert response.status_code == 200
    document = response.json()
    schemathesis.openapi.from_dict(document).validate()  # raises on an invalid document
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"] == {
        "TokenAuth": {"type": "http", "scheme": "bearer"}
    }
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) == {
        ("POST", "/api/v1/previews"),
        ("POST", "/api/v1/previews/{preview_id}/shares"),
        ("POST", "/api/v1/shares"),
        ("GET", "/api/v1/today"),
        ("GET", "/api/v1/reactions"),
        ("GET", "/api/v1/shares/{token}"),
        ("POST", "/api/v1/builds"),
    }
    for operation in operations.values():
        assert operation["security"] == [{"TokenAuth": []}]
        assert {"401", "404", "422", "429"} <= set(operation["responses"])


def test_each_operation_keeps_its_published_operation_id(client):
    # Clients generated from the document name their methods after these: an endpoint moved
    # to another router module keeps its id.
    document = client.get(f"{API}/openapi.json").json()
    operation_ids = {
        (method.upper(), path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert operation_ids == {
        ("POST", "/api/v1/previews"): "outerloop_api_create_preview",
        ("POST", "/api/v1/shares"): "outerloop_api_create_turn",
        ("POST", "/api/v1/previews/{preview_id}/shares"): "outerloop_api_create_share",
        ("GET", "/api/v1/today"): "outerloop_api_today",
        ("GET", "/api/v1/reactions"): "outerloop_api_reactions",
        ("GET", "/api/v1/shares/{token}"): "outerloop_api_share_detail",
        ("POST", "/api/v1/builds"): "outerloop_api_create_build",
    }


def test_the_interactive_docs_render(client):
    response = client.get(f"{API}/docs")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<title>Outer Loop API</title>" in page
    assert '"url": "/api/v1/openapi.json"' in page
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts
    for script in scripts:  # served from our own origin, as the page's CSP requires
        assert script.startswith(settings.STATIC_URL)
        assert client.get(script).status_code == 200


# Queries stay flat -------------------------------------------------------------------------


def many_reactions(recipient, count: int) -> None:
    for n in range(count):
        share = ShareFactory(recipient=recipient, sent_at=NOW - timedelta(days=n % 10, hours=1))
        ReactionFactory(share=share, created_at=share.sent_at + timedelta(minutes=n))


@pytest.mark.parametrize("count", [3, 30])
def test_today_takes_the_same_queries_however_many_reactions(
    api, recipient, count, django_assert_num_queries
):
    many_reactions(recipient, count)
    get(api, "/today")  # the first use stamps last_used_at

    with django_assert_num_queries(2):  # the token, the days
        assert get(api, "/today").status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_reactions_take_the_same_queries_however_many_there_are(
    api, recipient, count, django_assert_num_queries
):
    many_reactions(recipient, count)
    get(api, "/today")

    with django_assert_num_queries(3):  # the token, the count, the page
        response = get(api, "/reactions")

    assert response.json()["count"] == count
    assert len(response.json()["items"]) == count
