"""Uploads per builder per hour (OUTERLOOP_HOSTED_UPLOADS_PER_HOUR, `throttles.upload_refused`):
storing a build keeps a web worker busy for seconds, so the API's POST /builds and the
dashboard's turn with an upload share one count, refused uploads included, and past it each
says so plainly with a 429 and Retry-After before anything is stored."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from outerloop.models import ApiToken
from sessions.models import HostedBuild

INDEX = b"<!doctype html><title>Habit tracker</title><h1>Habits</h1>"
TURN = reverse("outerloop:turn")
SAID = "That's 2 uploaded builds this hour, as many as an hour allows."


@pytest.fixture(autouse=True)
def two_an_hour(settings, tmp_path):
    settings.OUTERLOOP_HOSTED_UPLOADS_PER_HOUR = 2
    settings.STORAGES = {
        **settings.STORAGES,
        "previews": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "previews"},
        },
    }


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


@pytest.fixture
def api(owner) -> Client:
    _, raw = ApiToken.issue(owner, "laptop CLI")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def api_upload(api: Client, files: dict[str, bytes]):
    archive = io.BytesIO(zipped(files))
    archive.name = "dist.zip"
    return api.post("/api/v1/builds", {"file": archive})


def turn_upload(client: Client, files: dict[str, bytes], **headers):
    build = SimpleUploadedFile("dist.zip", zipped(files), content_type="application/zip")
    fields = {"url": "", "title": "", "recipient": "", "channel": "dm", "build": build}
    return client.post(TURN, fields, headers=headers)


def test_the_api_refuses_past_the_hour_counting_refused_uploads(api):
    assert api_upload(api, {"readme.txt": b"no index"}).status_code == 400  # refused: counted
    assert api_upload(api, {"index.html": INDEX}).status_code == 201

    response = api_upload(api, {"index.html": INDEX})

    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert response.json()["detail"].startswith(SAID)
    assert int(response["Retry-After"]) > 0
    assert HostedBuild.objects.count() == 1


def test_the_dashboard_says_so_beside_the_form_and_shares_the_apis_count(api, owner_client):
    assert api_upload(api, {"index.html": INDEX}).status_code == 201
    assert turn_upload(owner_client, {"index.html": INDEX}).status_code == 302

    answer = turn_upload(owner_client, {"index.html": INDEX}, Accept="application/json")
    page = turn_upload(owner_client, {"index.html": INDEX})

    assert answer.status_code == 429 and int(answer["Retry-After"]) > 0
    assert answer.json()["message"].startswith(SAID)
    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    assert SAID.replace("'", "&#x27;") in page.content.decode()
    assert HostedBuild.objects.count() == 2


def test_another_builder_still_uploads(api, outsider_client):
    for _ in range(3):
        api_upload(api, {"index.html": INDEX})

    assert turn_upload(outsider_client, {"index.html": INDEX}).status_code == 302
