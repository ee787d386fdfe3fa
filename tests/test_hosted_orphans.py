"""Files no build owns (sessions.builds.sweep_orphans, run by sweep_builds): a worker killed
mid-upload (gunicorn's timeout, the OOM killer) leaves files under a key with no HostedBuild
row, which count against no quota and which the sweep of builds never met. The sweep deletes
such a prefix once nothing was written under it for an hour, on the filesystem and in S3
(whose deletes go in batches of up to 1,000 keys); a kept build's files, a fresh upload's
and anything not shaped like a build's key stay."""

import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone

from sessions.builds import store_build, sweep_builds, zip_entries
from sessions.hosted import new_host_label
from sessions.models import HostedBuild
from tests.test_hosted_storage_s3 import bucket, keys, make_zip, s3_endpoint

__all__ = ["bucket", "s3_endpoint"]  # fixtures used here
INDEX = b"<!doctype html><title>Crag finder</title>"


@pytest.fixture
def filesystem(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "previews": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "previews"},
        },
    }
    return tmp_path / "previews"


def written_now(root) -> None:
    """Date every folder at the top of the storage to the test's clock (the kernel dates
    them by the machine's)."""
    now = timezone.now().timestamp()
    for folder in root.iterdir():
        os.utime(folder, (now, now))


def names(storage) -> set[str]:
    """Every file in the storage, walked through its own listdir."""
    found, pending = set(), [""]
    while pending:
        folder = pending.pop()
        folders, files = storage.listdir(folder)
        found |= {f"{folder}/{name}".lstrip("/") for name in files}
        pending += [f"{folder}/{name}".lstrip("/") for name in folders]
    return found


def leave_orphans(owner, count: int = 1) -> tuple[HostedBuild, list[str]]:
    """A kept build, and `count` keys holding files with no row (a killed upload's), plus a
    folder no build's key could be."""
    storage = storages["previews"]
    kept = store_build(owner, zip_entries(make_zip({"index.html": INDEX, "a/app.js": b"x"})))
    orphans = [new_host_label() for _ in range(count)]
    for key in orphans:
        for name in ("index.html", "assets/app.js", "assets/app.js.br"):
            storage.save(f"{key}/{name}", ContentFile(b"x"))
    storage.save("operator-notes/readme.txt", ContentFile(b"mine"))
    return kept, orphans


@pytest.mark.django_db
def test_the_sweep_deletes_an_hour_old_orphan_on_the_filesystem(owner, filesystem):
    storage = storages["previews"]
    kept, [orphan] = leave_orphans(owner)
    written_now(filesystem)
    before = names(storage)
    written = timezone.now()

    assert sweep_builds(written + timedelta(minutes=50)) == 0  # may be an upload under way
    assert names(storage) == before

    assert sweep_builds(written + timedelta(minutes=70)) == 1

    assert {name.split("/")[0] for name in names(storage)} == {kept.key, "operator-notes"}
    assert names(storage) == {name for name in before if not name.startswith(orphan)}


@pytest.mark.django_db
def test_the_sweep_of_a_storage_no_upload_has_made_yet_is_nothing(filesystem):
    assert not filesystem.exists()

    assert sweep_builds(timezone.now()) == 0


@pytest.mark.django_db
def test_the_sweep_deletes_the_files_a_claimed_build_left(owner, filesystem):
    """A sweep claimed a build (deleted_at set) and died before deleting its files."""
    storage = storages["previews"]
    build = store_build(owner, zip_entries(make_zip({"index.html": INDEX})))
    HostedBuild.objects.filter(pk=build.pk).update(deleted_at=timezone.now())
    written_now(filesystem)

    assert sweep_builds(timezone.now() + timedelta(hours=2)) == 1

    assert names(storage) == set()


@pytest.mark.django_db
def test_the_sweep_deletes_orphans_in_s3_in_batches(owner, bucket, monkeypatch):
    storage = storages["previews"]
    kept, orphans = leave_orphans(owner, count=2)
    many = orphans[0]
    for n in range(1001):  # more than one DeleteObjects request may name
        bucket.put_object(Bucket="outerloop-previews", Key=f"{many}/chunks/{n}.js", Body=b"x")
    client = storage.connection.meta.client
    batches = []
    real = client.delete_objects
    monkeypatch.setattr(
        client,
        "delete_objects",
        lambda **kwargs: batches.append(len(kwargs["Delete"]["Objects"])) or real(**kwargs),
    )
    written = timezone.now()

    assert sweep_builds(written + timedelta(minutes=50)) == 0
    assert sweep_builds(written + timedelta(minutes=70)) == 2

    assert {key.split("/")[0] for key in keys(bucket)} == {kept.key, "operator-notes"}
    assert sum(batches) == 1004 + 3 and max(batches) == 1000
