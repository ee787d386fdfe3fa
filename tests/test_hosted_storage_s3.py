"""Hosted builds in S3 (OUTERLOOP_PREVIEW_STORAGE=s3, django-storages' S3Storage), against a
real S3 API server this test starts: moto in server mode on a free loopback port, spoken to
over HTTP by boto3 exactly as AWS, MinIO or R2 would be. A build is stored, read back and
deleted with no object left; a refused upload leaves none either.

Skips only where moto's server can't start, and never where OUTERLOOP_REQUIRE_S3 is set
(.ci/run sets it).
"""

import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from django.core.files.storage import storages

from sessions.builds import BuildRefused, delete_build_files, store_build, zip_entries
from sessions.models import HostedBuild
from tests.factories import BuilderFactory

ROOT = Path(__file__).resolve().parent.parent
REQUIRE = "OUTERLOOP_REQUIRE_S3"
BUCKET = "outerloop-previews"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}
INDEX = b"<!doctype html><title>Crag finder</title>" + b"<p>Frankenjura</p>" * 60  # > 1 KB
APP_JS = b"export const crags = [" + b'"Frankenjura",' * 2000 + b"];\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server for this module, its URL; skip (or fail, under REQUIRE) without it."""
    try:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        server.start()
    except Exception as error:  # moto missing or its server unable to bind
        message = f"moto's S3 server can't start: {error!r}"
        if os.environ.get(REQUIRE):
            pytest.fail(f"{message}; {REQUIRE} is set, so this may not skip")
        pytest.skip(message)
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh bucket on the server, and the "previews" storage pointed at it as
    OUTERLOOP_PREVIEW_STORAGE=s3 does (outerloop/settings.py)."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, **_boto(CREDENTIALS))
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "previews": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "default_acl": None,
                "file_overwrite": True,
                **CREDENTIALS,
            },
        },
    }
    yield client
    for key in keys(client):
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)


def _boto(credentials: dict) -> dict:
    return {
        "aws_access_key_id": credentials["access_key"],
        "aws_secret_access_key": credentials["secret_key"],
        "region_name": credentials["region_name"],
    }


def keys(client) -> list[str]:
    """Every object key in the bucket, listed by the server (all pages)."""
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        found.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(found)


def make_zip(files: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


@pytest.mark.django_db
def test_a_build_is_stored_read_back_and_deleted_in_s3(owner, bucket):
    assert type(storages["previews"]).__name__ == "S3Storage"
    upload = make_zip({"dist/index.html": INDEX, "dist/assets/app.js": APP_JS})

    build = store_build(owner, zip_entries(upload))

    key = build.key
    assert keys(bucket) == sorted(
        f"{key}/{name}"
        for name in [
            "index.html",
            "index.html.br",
            "index.html.gz",
            "assets/app.js",
            "assets/app.js.br",
            "assets/app.js.gz",
        ]
    )
    with storages["previews"].open(f"{key}/assets/app.js") as stored:
        assert stored.read() == APP_JS
    body = bucket.get_object(Bucket=BUCKET, Key=f"{key}/index.html")["Body"].read()
    assert body == INDEX

    delete_build_files(build)

    assert keys(bucket) == []


@pytest.mark.django_db
def test_a_refused_upload_leaves_no_object_in_s3(owner, bucket, settings):
    """Two files are uploaded before the third is found too big: both are deleted again."""
    settings.OUTERLOOP_HOSTED_MAX_FILE = 1024**2
    upload = make_zip({"index.html": INDEX, "app.js": APP_JS, "zz.bin": bytes(2 * 1024**2)})

    with pytest.raises(BuildRefused) as refused:
        store_build(owner, zip_entries(upload))

    assert refused.value.message == "zz.bin is 2 MB; a file may be 1 MB."
    assert keys(bucket) == []
    assert not HostedBuild.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_deleting_the_builder_leaves_no_object_in_s3(bucket):
    builder = BuilderFactory()
    store_build(builder, zip_entries(make_zip({"index.html": INDEX, "a/b/c.js": APP_JS})))
    assert keys(bucket)

    builder.delete()

    assert keys(bucket) == []


def settings_with(**env: str) -> subprocess.CompletedProcess:
    """Load the production settings module in a fresh interpreter under `env`; print
    STORAGES["previews"] as JSON."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OUTERLOOP_PREVIEW_")}
    code = (
        "import json; from outerloop import settings as s; "
        "print(json.dumps(s.STORAGES['previews'], default=str))"
    )
    return subprocess.run(  # noqa: S603 - our own settings module
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_s3_setting_switches_the_previews_storage():
    loaded = settings_with(
        OUTERLOOP_PREVIEW_STORAGE="S3",
        OUTERLOOP_PREVIEW_S3_BUCKET="previews",
        OUTERLOOP_PREVIEW_S3_ENDPOINT_URL="https://s3.example.net",
        OUTERLOOP_PREVIEW_S3_REGION="eu-central-1",
        OUTERLOOP_PREVIEW_S3_ACCESS_KEY_ID="key",
        OUTERLOOP_PREVIEW_S3_SECRET_ACCESS_KEY="secret",
    )

    storage = json.loads(loaded.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (
        storage["OPTIONS"]
        | {
            "bucket_name": "previews",
            "endpoint_url": "https://s3.example.net",
            "region_name": "eu-central-1",
            "access_key": "key",
            "secret_key": "secret",
            "default_acl": None,
        }
        == storage["OPTIONS"]
    )


def test_the_filesystem_is_the_default():
    storage = json.loads(settings_with().stdout)

    assert storage["BACKEND"] == "django.core.files.storage.FileSystemStorage"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"OUTERLOOP_PREVIEW_STORAGE": "ftp"}, "OUTERLOOP_PREVIEW_STORAGE must be one of"),
        ({"OUTERLOOP_PREVIEW_STORAGE": "s3"}, "OUTERLOOP_PREVIEW_S3_BUCKET must be set"),
    ],
)
def test_a_bad_storage_setting_stops_start_up(env, says):
    loaded = settings_with(**env)

    assert loaded.returncode != 0
    assert says in loaded.stderr
