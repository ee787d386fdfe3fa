"""A hosted preview served from S3 (OUTERLOOP_PREVIEW_STORAGE=s3), against the moto S3 server
of test_hosted_storage_s3.py: each file comes from one GetObject whose Body is streamed, with
the request's Range passed on to S3, so a range is never downloaded whole (nor the object
spooled through `storage.open`) before its first byte is sent (sessions/serving.py,
`s3_body`)."""

import gzip

import brotli
import pytest
from django.core.files.storage import storages

from sessions import serving
from sessions.models import Preview
from tests.hosted import write_build
from tests.test_hosted_storage_s3 import bucket, s3_endpoint

__all__ = ["bucket", "s3_endpoint"]  # fixtures used here

BUNDLE = b"export const crags = ['Frankenjura', 'Elbsandstein'];\n" * 40
VIDEO = bytes(range(256)) * 1024  # 256 KB of "media"
FILES = {
    "index.html": b"<!doctype html><title>Crag finder</title>",
    "app.mjs": BUNDLE,
    "clip.mp4": VIDEO,
}


@pytest.fixture
def gets(bucket):
    """The parameters of every GetObject the "previews" storage sends to S3, in order; and
    `storage.open` refused, so a file is served only through GetObject, never downloaded
    whole into S3File's spool."""
    storage = storages["previews"]
    sent = []

    def record(params, **kwargs):
        sent.append(dict(params))

    storage.connection.meta.client.meta.events.register(
        "before-parameter-build.s3.GetObject", record
    )

    def no_open(name, mode="rb"):
        raise AssertionError(f"{name} was opened through S3File (downloaded whole)")

    storage.open = no_open
    return sent


@pytest.fixture
def hosted(session, owner, bucket) -> Preview:
    assert type(storages["previews"]).__name__ == "S3Storage"
    return Preview.hosting(session, write_build(owner, FILES), widget=False)


def get(client, preview, path="/", method="get", **headers):
    host = f"{preview.host}.{serving.settings.OUTERLOOP_PREVIEW_DOMAIN}"
    return getattr(client, method)(path, HTTP_HOST=host, **headers)


def key(preview, path):
    return f"{preview.build.key}/{path}"


def test_a_full_get_streams_the_whole_object(client, hosted, gets):
    response = get(client, hosted, "/clip.mp4")

    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == VIDEO
    assert response["Content-Length"] == str(len(VIDEO))
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"].startswith('"')
    assert response["Cache-Control"].startswith("public, max-age=")
    assert gets == [{"Bucket": "outerloop-previews", "Key": key(hosted, "clip.mp4")}]


def test_a_range_is_asked_of_s3_and_only_its_bytes_are_sent(client, hosted, gets):
    response = get(client, hosted, "/clip.mp4", HTTP_RANGE="bytes=1000-1999")

    assert response.status_code == 206
    assert b"".join(response.streaming_content) == VIDEO[1000:2000]
    assert response["Content-Length"] == "1000"
    assert response["Content-Range"] == f"bytes 1000-1999/{len(VIDEO)}"
    assert [get["Range"] for get in gets] == ["bytes=1000-1999"]


def test_a_suffix_range_is_asked_of_s3_as_its_first_and_last_byte(client, hosted, gets):
    response = get(client, hosted, "/clip.mp4", HTTP_RANGE="bytes=-1")

    assert response.status_code == 206
    assert b"".join(response.streaming_content) == VIDEO[-1:]
    assert response["Content-Range"] == f"bytes {len(VIDEO) - 1}-{len(VIDEO) - 1}/{len(VIDEO)}"
    assert [get["Range"] for get in gets] == [f"bytes={len(VIDEO) - 1}-{len(VIDEO) - 1}"]


@pytest.mark.parametrize(
    ("accept", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)]
)
def test_an_encoded_variant_is_streamed_from_its_own_object(client, hosted, gets, accept, decode):
    response = get(client, hosted, "/app.mjs", HTTP_ACCEPT_ENCODING=accept)

    data = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Encoding"] == accept
    assert response["Content-Length"] == str(len(data))
    assert decode(data) == BUNDLE
    suffix = dict(serving.ENCODINGS)[accept]
    assert [get["Key"] for get in gets] == [key(hosted, "app.mjs" + suffix)]


def test_a_head_has_the_headers_and_fetches_no_object(client, hosted, gets):
    response = get(client, hosted, "/clip.mp4", method="head")

    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == str(len(VIDEO))
    assert response["Content-Type"] == "video/mp4"
    assert gets == []


def test_a_file_gone_from_the_bucket_is_a_plain_404(client, hosted, gets, bucket):
    bucket.delete_object(Bucket="outerloop-previews", Key=key(hosted, "clip.mp4"))

    response = get(client, hosted, "/clip.mp4")

    assert response.status_code == 404


def test_an_encoded_variant_gone_from_the_bucket_is_a_plain_404(client, hosted, gets, bucket):
    bucket.delete_object(Bucket="outerloop-previews", Key=key(hosted, "app.mjs.br"))

    response = get(client, hosted, "/app.mjs", HTTP_ACCEPT_ENCODING="br")

    assert response.status_code == 404
