"""Reading a hosted build's file from S3 (OUTERLOOP_PREVIEW_STORAGE=s3): django-storages'
S3File downloads the whole object into a SpooledTemporaryFile, by default one that never
spills to disk (max_memory_size 0), so a 20 MB video sat in a worker's memory even for a
1-byte Range. With the settings' max_memory_size a large object goes to a temporary file on
disk and only a small one stays in memory. Against the moto S3 server of
test_hosted_storage_s3.py, with the storage options exactly as outerloop/settings.py builds
them."""

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from tests.test_hosted_storage_s3 import BUCKET, CREDENTIALS, bucket, s3_endpoint, settings_with

__all__ = ["bucket", "s3_endpoint"]  # fixtures used here


@pytest.fixture
def settings_storage(bucket, s3_endpoint, settings):
    """The "previews" storage as outerloop/settings.py configures it for S3."""
    loaded = settings_with(
        OUTERLOOP_PREVIEW_STORAGE="s3",
        OUTERLOOP_PREVIEW_S3_BUCKET=BUCKET,
        OUTERLOOP_PREVIEW_S3_ENDPOINT_URL=s3_endpoint,
        OUTERLOOP_PREVIEW_S3_REGION=CREDENTIALS["region_name"],
        OUTERLOOP_PREVIEW_S3_ACCESS_KEY_ID=CREDENTIALS["access_key"],
        OUTERLOOP_PREVIEW_S3_SECRET_ACCESS_KEY=CREDENTIALS["secret_key"],
    )
    settings.STORAGES = {**settings.STORAGES, "previews": json.loads(loaded.stdout)}
    return storages["previews"]


def test_a_large_object_read_from_s3_spills_to_disk(settings_storage):
    settings_storage.save("k/video.mp4", ContentFile(bytes(3 * 1024**2)))
    settings_storage.save("k/index.html", ContentFile(b"<p>" * 1000))

    with (
        settings_storage.open("k/video.mp4") as video,
        settings_storage.open("k/index.html") as page,
    ):
        assert video.read(1) == b"\0" and page.read(3) == b"<p>"
        assert video.file._rolled  # on disk: SpooledTemporaryFile's own flag
        assert not page.file._rolled
