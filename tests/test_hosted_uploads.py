"""An uploaded build made today's turn: POST /api/v1/builds and `outerloop.turns.host_build`,
the one path the API, the CLI and the dashboard take (issue 14, "The builder's side")."""

import io
import os
import zipfile

import pytest
from django.core.files.storage import storages
from django.test import Client

from outerloop.models import ApiToken
from outerloop.turns import host_build
from reactions.models import Channel, Recipient, Share
from sessions.builds import BuildRefused, zip_entries
from sessions.hosted import label_of
from sessions.models import BuildSession, HostedBuild, Preview
from sessions.placement import Joined, place_build, title_from_build

API = "/api/v1"
INDEX = b"<!doctype html><title>Habit tracker</title><h1>Habits</h1>"


def zipped(files: dict[str, bytes], name: str = "dist.zip") -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    buffer.seek(0)
    buffer.name = name
    return buffer


def stored_files(root) -> list[str]:
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def api(owner) -> Client:
    _, raw = ApiToken.issue(owner, "laptop CLI")
    return Client(headers={"User-Agent": "outerloop-cli/1", "Authorization": f"Bearer {raw}"})


def upload(api: Client, files: dict[str, bytes] | None = None, **fields):
    archive = zipped(files if files is not None else {"index.html": INDEX})
    return api.post(f"{API}/builds", {"file": archive, **fields})


# The use case ------------------------------------------------------------------------------


def test_a_build_without_a_title_starts_a_session_named_after_its_folder(owner):
    placement = place_build(owner, "habit-tracker/dist")

    hosted = host_build(owner, placement, zip_entries(zipped({"index.html": INDEX})))

    preview = Preview.objects.get()
    assert hosted.preview == preview and hosted.share is None
    assert preview.is_hosted and label_of(preview.url.split("//")[1].rstrip("/")) == preview.host
    assert preview.session.title == "habit-tracker"
    assert placement.joined is Joined.NEW
    assert not Share.objects.exists()


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("habit-tracker/dist", "habit-tracker"),
        ("dist", "dist"),
        ("crag-finder.zip", "crag-finder"),
        ("apps/crags/build", "crags"),
        ("", "Uploaded build"),
        ("..", "Uploaded build"),
    ],
)
def test_a_new_sessions_title_comes_from_the_build_not_its_generic_folder(name, title):
    assert title_from_build(name) == title


def test_a_build_joins_the_session_picked_or_titled_as_a_url_does(owner, session):
    picked = place_build(owner, "dist", session=f"#{session.pk}")
    titled = place_build(owner, "dist", title="crag FINDER")

    assert (picked.session, picked.joined) == (session, Joined.ASKED)
    assert (titled.session, titled.joined) == (session, Joined.TITLE)
    hosted = host_build(
        owner,
        titled,
        zip_entries(zipped({"index.html": INDEX})),
        recipient_name="Sam",
        channel=Channel.DM,
    )
    assert hosted.share.preview == hosted.preview
    assert hosted.preview.session == session
    assert hosted.share.recipient.name == "Sam"


def test_a_refused_build_leaves_no_session_preview_person_or_file(owner, previews_storage):
    placement = place_build(owner, "dist")

    with pytest.raises(BuildRefused):
        host_build(
            owner,
            placement,
            zip_entries(zipped({"readme.md": b"# no index"})),
            recipient_name="Sam",
            channel=Channel.DM,
        )

    assert not HostedBuild.objects.exists()
    assert not BuildSession.objects.exists() and not Recipient.objects.exists()
    assert stored_files(previews_storage) == []


def test_a_failed_turn_deletes_the_build_it_stored(owner, previews_storage, monkeypatch):
    placement = place_build(owner, "dist")

    def refuse(*args, **kwargs):
        raise ValueError("A share joins a builder's own preview to the same builder's person.")

    monkeypatch.setattr("outerloop.turns.send_link", refuse)
    with pytest.raises(ValueError, match="same builder"):
        host_build(
            owner,
            placement,
            zip_entries(zipped({"index.html": INDEX})),
            recipient_name="Sam",
            channel=Channel.DM,
        )

    assert not HostedBuild.objects.exists()
    assert not Preview.objects.exists() and not BuildSession.objects.exists()
    assert stored_files(previews_storage) == []


# POST /api/v1/builds -------------------------------------------------------------------------


def test_post_builds_hosts_the_zip_and_answers_the_preview_without_a_share(api, owner):
    response = upload(api, name="habit-tracker/dist")

    assert response.status_code == 201, response.content
    body = response.json()
    preview = Preview.objects.get()
    assert body["share"] is None
    assert body["session_match"] == "new"
    assert body["preview"]["id"] == preview.pk
    assert body["preview"]["url"] == preview.url
    assert body["preview"]["title"] == "habit-tracker"
    build = preview.build
    assert build.builder == owner and "index.html" in build.manifest
    with storages["previews"].open(f"{build.key}/index.html") as stored:
        assert stored.read() == INDEX


def test_post_builds_with_a_recipient_answers_the_share_as_post_shares_does(api):
    response = upload(
        api, title="Habit tracker", recipient="Sam — climbing gym", channel="in_person"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    share = Share.objects.get()
    assert body["share"]["id"] == share.pk
    assert body["share"]["url"].endswith(f"/r/{share.token}/")
    assert body["share"]["recipient"] == "Sam"
    assert body["share"]["recipient_note"] == "climbing gym"
    assert body["share"]["preview_id"] == body["preview"]["id"] == share.preview_id
    assert body["share"]["title"] == "Habit tracker"
    assert body["share"]["qr_svg"].startswith("<svg")
    assert share.channel == Channel.IN_PERSON and share.preview.is_hosted


def test_a_build_without_index_html_is_refused_with_what_was_found(api):
    response = upload(api, {"app.js": b"1", "style.css": b"a{}"}, recipient="Sam")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "build_refused"
    assert "index.html" in body["detail"]
    assert not Preview.objects.exists() and not Recipient.objects.exists()
    assert not HostedBuild.objects.exists()


def test_a_corrupt_zip_is_refused_as_a_build(api):
    garbage = io.BytesIO(b"PK\x03\x04 this is not a zip at all")
    garbage.name = "dist.zip"

    response = api.post(f"{API}/builds", {"file": garbage})

    assert response.status_code == 400
    assert response.json()["error"] == "build_refused"
    assert not HostedBuild.objects.exists()


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(api, settings):
    settings.OUTERLOOP_HOSTED_MAX_UPLOAD = 1024 * 1024

    response = upload(api, {"index.html": INDEX, "big.bin": os.urandom(1024 * 1024 + 128 * 1024)})

    assert response.status_code == 413
    assert response.json() == {"error": "too_large", "detail": "A build can be at most 1 MB."}
    assert not HostedBuild.objects.exists()


def test_a_session_that_isnt_yours_is_a_404_and_nothing_is_stored(api, previews_storage):
    response = upload(api, session="#999", recipient="Sam")

    assert response.status_code == 404
    assert response.json()["error"] == "no_such_session"
    assert not HostedBuild.objects.exists()


def test_a_missing_zip_is_a_422(api):
    response = api.post(f"{API}/builds", {"title": "Habit tracker"})

    assert response.status_code == 422
    assert response.json()["error"] == "invalid"


def test_post_builds_needs_a_token():
    response = Client().post(f"{API}/builds", {"file": zipped({"index.html": INDEX})})

    assert response.status_code == 401


def test_the_openapi_document_describes_the_upload(client):
    document = client.get(f"{API}/openapi.json").json()

    operation = document["paths"]["/api/v1/builds"]["post"]
    assert operation["operationId"] == "outerloop_api_create_build"
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"file", "title", "session", "new_session", "recipient", "channel"} <= set(
        _properties(document, form)
    )
    assert {"201", "400", "401", "404", "413", "422", "429"} <= set(operation["responses"])


def _properties(document: dict, schema: dict) -> dict:
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    properties = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        properties |= _properties(document, part)
    return properties


@pytest.mark.parametrize("name", ["build.zip", "dist", ""])
def test_a_build_with_a_generic_name_is_titled_by_its_page(owner, name):
    page = b"<!doctype html><title>\n  Crag &amp; Boulder finder </title><p>hi</p>"

    host_build(owner, place_build(owner, name), zip_entries(zipped({"index.html": page})))

    assert Preview.objects.get().session.title == "Crag & Boulder finder"


def test_a_typed_or_named_title_wins_over_the_page(owner):
    page = b"<title>Vite App</title>"

    host_build(
        owner, place_build(owner, "habit-tracker/dist"), zip_entries(zipped({"index.html": page}))
    )

    assert Preview.objects.get().session.title == "habit-tracker"


def test_a_page_without_a_title_keeps_the_generic_one(owner):
    page = b"<!doctype html><h1>Habits</h1>"

    host_build(owner, place_build(owner, "dist"), zip_entries(zipped({"index.html": page})))

    assert Preview.objects.get().session.title == "dist"
