"""Your data, exported: everything the builder owns, in the documented format, and nothing else."""

import csv
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.http import StreamingHttpResponse
from django.urls import reverse

from common.builders import EmailKind
from common.mail import ClaimStatus, EmailClaim
from outerloop import export
from reactions.models import Channel, Chip, DeviceClass, VisitKind
from sessions.models import PublishRequest, PublishStatus
from tests.factories import (
    BuildSessionFactory,
    PreviewFactory,
    ReactionFactory,
    RecipientFactory,
    ShareFactory,
    VisitFactory,
)

README = Path(settings.BASE_DIR) / "README.md"
TABLES = ["build_sessions", "previews", "publish_requests", "recipients", "shares"]
TABLES += ["visits", "reactions", "email_claims"]
# A reaction that a naive CSV or JSON writer would mangle.
TRICKY = 'Line one, with a comma;\nline two "quoted" — ünïcode 👍'


def documented_fields() -> dict[str, list[str]]:
    """The field lists of the README's "Your data" table: the format's documentation."""
    section = README.read_text().split("## Your data", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", section, flags=re.MULTILINE)
    return {name: re.findall(r"`(\w+)`", fields) for name, fields in rows}


def history(builder, now) -> dict[str, list[int]]:
    """A varied history for one builder; the ids of each table's rows."""
    sessions = BuildSessionFactory.create_batch(2, builder=builder, notes="Asked for one button.")
    previews = [
        PreviewFactory(session=sessions[0]),
        PreviewFactory(session=sessions[0], frameable=True),
        PreviewFactory(session=sessions[1], created_at=now - timedelta(days=3)),
    ]
    people = [
        RecipientFactory(builder=builder),
        RecipientFactory(builder=builder, lives_with=True),
    ]
    shares = [
        ShareFactory(preview=previews[0], recipient=people[0], sent_at=now - timedelta(days=2)),
        ShareFactory(preview=previews[1], recipient=people[0], channel=Channel.IN_PERSON),
        ShareFactory(
            preview=previews[2],
            recipient=people[1],
            channel=Channel.TEXT,
            fresh_link_requested_at=now - timedelta(hours=1),
        ),
    ]
    visits = [
        VisitFactory(share=shares[0], device_class=DeviceClass.PHONE),
        VisitFactory(share=shares[0], kind=VisitKind.TAP, device_class=DeviceClass.PHONE),
        VisitFactory(share=shares[0], kind=VisitKind.RETURN, device_class=DeviceClass.DESKTOP),
        VisitFactory(share=shares[1], via_qr=True, device_class=DeviceClass.PHONE),
        VisitFactory(share=shares[2], by_builder=True, device_class=DeviceClass.DESKTOP),
    ]
    reactions = [
        ReactionFactory(share=shares[0], chip=Chip.LOVE, notified_at=now),
        ReactionFactory(share=shares[1], counts=False, text=f"{builder.name} says: {TRICKY}"),
        ReactionFactory(share=shares[2], device_class=DeviceClass.TABLET),
    ]
    claims = [
        EmailClaim.objects.create(builder=builder, kind=EmailKind.NUDGE, period="2026-03-09"),
        EmailClaim.objects.create(
            builder=builder,
            kind=EmailKind.REVIEW,
            period="2026-W10",
            status=ClaimStatus.SENT,
            sent_at=now,
        ),
    ]
    publish = [
        PublishRequest.objects.create(
            preview=previews[0], domain=f"{builder.name.lower()}.example.com", note="Please."
        ),
        PublishRequest.objects.create(
            preview=previews[2], domain="later.example.com", status=PublishStatus.DECLINED
        ),
    ]
    return {
        "build_sessions": [obj.pk for obj in sessions],
        "previews": [obj.pk for obj in previews],
        "publish_requests": [obj.pk for obj in publish],
        "recipients": [obj.pk for obj in people],
        "shares": [obj.pk for obj in shares],
        "visits": [obj.pk for obj in visits],
        "reactions": [obj.pk for obj in reactions],
        "email_claims": [obj.pk for obj in claims],
    }


@pytest.fixture
def owned(owner, now) -> dict[str, list[int]]:
    return history(owner, now)


@pytest.fixture
def theirs(outsider, now) -> dict[str, list[int]]:
    return history(outsider, now)


def download(client, name: str) -> tuple[StreamingHttpResponse, bytes]:
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    return response, b"".join(response.streaming_content)


def test_the_json_export_holds_every_owned_row_in_the_documented_fields(
    owner_client, owner, owned, theirs
):
    response, body = download(owner_client, "outerloop:export-json")
    data = json.loads(body)

    documented = documented_fields()
    assert list(data) == ["format", "exported_at", "account", *TABLES]
    assert data["format"] == "outerloop-export/2"
    assert data["exported_at"] == "2026-03-10T12:00:00Z"
    assert list(data["account"]) == documented["account"]
    for table in TABLES:
        assert [row["id"] for row in data[table]] == sorted(owned[table]), table
        for row in data[table]:
            assert list(row) == documented[table], table
            assert all(isinstance(row[field], int) for field in row if field.endswith("id"))
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="outerloop-export-2026-03-10.json"'
    )


def test_the_json_export_says_what_each_row_holds(owner_client, owner, owned):
    _, body = download(owner_client, "outerloop:export-json")
    data = json.loads(body)

    account = data["account"]
    assert account["id"] == owner.pk
    assert account["email"] == "alex@example.com"
    assert account["time_zone"] == "Europe/Berlin"
    assert account["nudge_time"] == "10:00:00"
    assert account["rest_weekdays"] == []
    assert account["rest_day_history"] == [{"from": "2026-01-05", "weekdays": []}]
    assert account["email_confirmed_at"] == "2026-01-05T09:00:00Z"
    assert account["date_joined"] == "2026-01-05T09:00:00Z"
    assert "password" not in account
    assert b"md5$" not in body  # the test suite's password hashes

    share = data["shares"][0]
    assert share["token"] and share["channel"] == "dm"
    assert share["link"] == f"{settings.OUTERLOOP_BASE_URL}/r/{share['token']}/"
    assert share["sent_at"] == "2026-03-08T12:00:00Z"
    assert share["day"] == "2026-03-08"
    assert share["recipient_id"] == owned["recipients"][0]
    assert [visit["kind"] for visit in data["visits"][:3]] == ["open", "tap", "return"]
    assert data["visits"][3]["via_qr"] is True
    assert data["visits"][4]["by_builder"] is True
    assert data["reactions"][0]["chip"] == "love"
    assert data["reactions"][1]["counts"] is False
    assert data["reactions"][1]["text"] == f"Alex says: {TRICKY}"
    assert data["email_claims"][1]["sent_at"] == "2026-03-10T12:00:00Z"
    assert data["publish_requests"][0]["domain"] == "alex.example.com"


def test_no_export_holds_anything_of_another_builder(owner_client, owned, theirs):
    _, body = download(owner_client, "outerloop:export-json")
    data = json.loads(body)

    for table in TABLES:
        assert not {row["id"] for row in data[table]} & set(theirs[table]), table
    text = body.decode()
    assert "riley" not in text.lower()
    _, archive = download(owner_client, "outerloop:export-zip")
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        csvs = "".join(zipped.read(name).decode("utf-8-sig") for name in zipped.namelist())
    assert "riley" not in csvs.lower()


def test_the_zip_holds_one_csv_per_table_with_the_json_rows(owner_client, owned, theirs):
    _, body = download(owner_client, "outerloop:export-json")
    data = json.loads(body)
    response, archive = download(owner_client, "outerloop:export-zip")

    documented = documented_fields()
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        assert zipped.testzip() is None
        assert zipped.namelist() == [f"{table}.csv" for table in ["account", *TABLES]]
        tables = {
            name.removesuffix(".csv"): list(
                csv.reader(io.StringIO(zipped.read(name).decode("utf-8-sig")))
            )
            for name in zipped.namelist()
        }
    assert tables["account"][0] == documented["account"]
    assert tables["account"][1][0] == str(data["account"]["id"])
    for table in TABLES:
        header, *rows = tables[table]
        assert header == documented[table], table
        assert [int(row[0]) for row in rows] == [row["id"] for row in data[table]], table
    reaction = dict(zip(tables["reactions"][0], tables["reactions"][2], strict=True))
    assert reaction["text"] == f"Alex says: {TRICKY}"
    assert reaction["counts"] == "false"
    assert reaction["notified_at"] == ""
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        'attachment; filename="outerloop-export-2026-03-10.zip"'
    )


def test_a_builder_with_nothing_yet_gets_empty_tables(owner_client, theirs):
    _, body = download(owner_client, "outerloop:export-json")
    data = json.loads(body)

    assert data["account"]["email"] == "alex@example.com"
    assert all(data[table] == [] for table in TABLES)
    _, archive = download(owner_client, "outerloop:export-zip")
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        assert (
            zipped.read("reactions.csv").decode("utf-8-sig").count("\r\n") == 1
        )  # the header alone


def test_the_documented_format_is_the_exported_one():
    documented = documented_fields()

    assert list(documented) == ["account", *TABLES]
    for table in [export.ACCOUNT, *export.TABLES]:
        assert list(table.fields) == documented[table.name]


def test_a_long_history_streams_in_many_chunks(owner_client, owner, now, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_ROWS", 10)
    recipient = RecipientFactory(builder=owner)
    preview = PreviewFactory(session__builder=owner)
    ShareFactory.create_batch(45, preview=preview, recipient=recipient)

    response = owner_client.get(reverse("outerloop:export-json"))
    chunks = list(response.streaming_content)

    assert len(json.loads(b"".join(chunks))["shares"]) == 45
    assert len(chunks) > 10
    zipped = owner_client.get(reverse("outerloop:export-zip"))
    archive = b"".join(zipped.streaming_content)
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.read("shares.csv").decode().count("\r\n") == 46


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["outerloop:export-json", "outerloop:export-zip"])
def test_exports_need_a_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url == f"{reverse('outerloop:login')}?next={reverse(name)}"


@pytest.mark.parametrize("name", ["outerloop:export-json", "outerloop:export-zip"])
def test_exports_are_never_cached(owner_client, name):
    response = owner_client.get(reverse(name))

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_the_settings_page_links_to_your_data(owner_client):
    page = owner_client.get(reverse("outerloop:settings")).content.decode()

    assert "Your data" in page
    for name in ["outerloop:export-json", "outerloop:export-zip", "outerloop:delete-account"]:
        assert f'href="{reverse(name)}"' in page


def test_every_csv_is_utf8_with_a_byte_order_mark_so_excel_shows_the_names(
    owner_client, owner, owned
):
    owner.name = "Zoë Ünal"
    owner.save(update_fields=["name"])
    RecipientFactory(builder=owner, name="Zoë Ünal", note="Ça\u011fr\u0131\u2019s choir")

    _, archive = download(owner_client, "outerloop:export-zip")

    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        files = {name: zipped.read(name) for name in zipped.namelist()}
    assert sorted(files) == sorted(f"{table}.csv" for table in ["account", *TABLES])
    for name, data in files.items():
        assert data.startswith(b"\xef\xbb\xbf"), name
        assert not data.startswith(b"\xef\xbb\xbf\xef\xbb\xbf"), name
        assert data[3:].decode("utf-8").startswith("id,"), name
    assert "Zoë Ünal".encode() in files["account.csv"]
    assert "Zoë Ünal,Ça\u011fr\u0131\u2019s choir".encode() in files["recipients.csv"]
