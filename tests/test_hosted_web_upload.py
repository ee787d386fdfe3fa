"""The dashboard's "or upload a build" (issue 14, "Web"): today's turn from a .zip or a picked
folder, through the same use case as the URL path (`host_build`, placed by `place_build`),
streamed to temporary files, with the page's script answered in JSON and a plain form post
answered with pages."""

import io
import json
import os
import zipfile
from html import unescape

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from outerloop import views
from reactions.models import Share
from sessions.models import BuildSession, HostedBuild, Preview

TURN = reverse("outerloop:turn")
INDEX = b"<!doctype html><title>Habit tracker</title><h1>Habits</h1>"
JSON = {"Accept": "application/json"}


def zipped(files: dict[str, bytes], name: str = "habit-tracker.zip") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def folder(files: dict[str, bytes]) -> dict:
    """A picked folder as the page's script sends it: each file under its own last name (as
    a multipart file name keeps it), the relative paths in build_paths."""
    uploads = [SimpleUploadedFile(path.rsplit("/", 1)[-1], data) for path, data in files.items()]
    return {"build_folder": uploads, "build_paths": json.dumps(list(files))}


def turn_fields(**fields) -> dict:
    return {"url": "https://latest.example.dev/", "title": "", "recipient": "", "channel": "dm"} | (
        fields
    )


def page(response) -> str:
    return unescape(response.content.decode())


def test_a_zip_with_a_person_makes_a_hosted_preview_and_their_share(owner_client, owner):
    response = owner_client.post(
        TURN, turn_fields(recipient="Sam — climbing gym", build=zipped({"index.html": INDEX}))
    )

    share = Share.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reactions:share-detail", args=[share.pk])
    assert share.recipient.name == "Sam"
    assert share.recipient.note == "climbing gym"
    preview = share.preview
    assert preview.is_hosted and preview.build.manifest.keys() == {"index.html"}
    # The prefilled URL was left aside: the build made the session, named after the zip.
    assert preview.session.title == "habit-tracker"
    assert preview.url.startswith(f"http://{preview.host}.preview.localhost")


def test_the_upload_streams_to_a_temporary_file(owner_client, monkeypatch):
    seen = []
    real = views.zip_entries

    def spied(file):
        # A stretch of a temporary file on disk (outerloop.uploads.SpoolUploadHandler).
        seen.append((file.size, os.fstat(file.file.spool.file.fileno()).st_size))
        return real(file)

    monkeypatch.setattr(views, "zip_entries", spied)
    # Small enough that Django's default handlers would have kept it in memory.
    upload = zipped({"index.html": INDEX})
    owner_client.post(TURN, turn_fields(recipient="Sam", build=upload))
    [(size, on_disk)] = seen
    assert size == upload.size and on_disk >= upload.size


def test_a_folder_keeps_its_paths_and_may_hold_more_files_than_other_requests(
    owner_client, settings
):
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 100
    files = {"dist/index.html": INDEX, "dist/assets/app.js": b"console.log('hi')\n"}
    # 150 files, and paths longer in all than the 64 KB any other form's fields may be.
    deep = "screens/" + "a-long-folder-name/" * 24
    files |= {f"dist/{deep}{n}.txt": b"x" for n in range(148)}
    assert len(json.dumps(list(files))) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = owner_client.post(
        TURN, turn_fields(recipient="Sam", title="Habit tracker", **folder(files)), headers=JSON
    )

    assert response.status_code == 200, response.content
    share = Share.objects.get()
    assert response.json() == {"location": reverse("reactions:share-detail", args=[share.pk])}
    manifest = share.preview.build.manifest
    assert len(manifest) == 150
    assert {"index.html", "assets/app.js", f"{deep}0.txt"} <= manifest.keys()
    assert share.preview.session.title == "Habit tracker"


def test_the_folder_name_titles_a_new_session(owner_client):
    response = owner_client.post(
        TURN, turn_fields(recipient="Sam", **folder({"habit-tracker/index.html": INDEX}))
    )
    assert response.status_code == 302
    assert Share.objects.get().preview.session.title == "habit-tracker"


def test_no_person_makes_a_preview_for_the_builder_alone(owner_client):
    response = owner_client.post(TURN, turn_fields(build=zipped({"index.html": INDEX})))

    preview = Preview.objects.get()
    assert preview.is_hosted
    assert not Share.objects.exists()
    assert response.status_code == 302
    assert response["Location"] == reverse("sessions:session-detail", args=[preview.session_id])
    session_page = page(owner_client.get(response["Location"]))
    assert "Your build is live at its own address" in session_page
    assert preview.url in session_page


def test_a_url_turn_still_needs_a_person(owner_client):
    response = owner_client.post(TURN, turn_fields())
    assert response.status_code == 400
    assert not Preview.objects.exists()


def test_a_refused_build_says_why_and_keeps_what_was_typed(owner_client, previews_storage):
    build = zipped({"README.md": b"# hi", "src/main.js": b""})
    response = owner_client.post(
        TURN, turn_fields(recipient="Sam — climbing gym", title="Habit tracker", build=build)
    )

    assert response.status_code == 400
    text = page(response)
    assert "No index.html at the top of the upload" in text
    assert "Found: README.md, src/" in text
    assert 'value="Sam — climbing gym"' in text
    assert 'value="Habit tracker"' in text
    assert not HostedBuild.objects.exists() and not BuildSession.objects.exists()
    assert not any(p.is_file() for p in previews_storage.rglob("*"))


def test_a_refused_build_answers_the_script_in_json(owner_client):
    response = owner_client.post(
        TURN, turn_fields(recipient="Sam", build=zipped({"about.html": INDEX})), headers=JSON
    )
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("No index.html at the top of the upload")
    assert body["errors"]["build"] == [body["message"]]


def test_a_folder_whose_paths_dont_match_its_files_is_refused(owner_client):
    fields = folder({"dist/index.html": INDEX}) | {"build_paths": json.dumps(["a", "b"])}
    response = owner_client.post(TURN, turn_fields(recipient="Sam", **fields), headers=JSON)
    assert response.status_code == 400
    assert "2 paths for 1 files" in response.json()["message"]


def test_a_body_too_large_is_refused_unread(owner_client, settings):
    settings.OUTERLOOP_HOSTED_MAX_UPLOAD = 1024 * 1024
    settings.OUTERLOOP_HOSTED_MAX_FILES = 10

    def fields():
        big = zipped({"index.html": INDEX, "video.mp4": bytes(2 * 1024 * 1024)})
        return turn_fields(recipient="Sam", title="Habit tracker", build=big)

    answer = owner_client.post(TURN, fields(), headers=JSON)
    assert answer.status_code == 413
    assert answer.json()["message"] == ("That upload is too large: a build can be at most 1 MB.")
    plain = owner_client.post(TURN, fields())
    assert plain.status_code == 413
    assert "a build can be at most 1 MB" in page(plain)
    assert not Preview.objects.exists()


def test_the_upload_checks_csrf_itself(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(TURN, turn_fields(recipient="Sam", build=zipped({"index.html": INDEX})))
    assert response.status_code == 403
    assert not Preview.objects.exists()


def test_the_dashboard_offers_a_zip_first_and_a_folder(owner_client):
    text = page(owner_client.get(reverse("outerloop:dashboard")))
    form = text[text.index('action="/turn/"') :]
    assert 'enctype="multipart/form-data"' in text
    assert form.index('name="build"') < form.index('name="build_folder"')
    assert 'accept=".zip,application/zip"' in form
    assert "webkitdirectory" in form
    assert '<label for="id_build">A .zip of your build' in form
