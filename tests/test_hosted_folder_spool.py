"""A picked folder of many files (the dashboard's "or upload a build"): every part of the
body goes into one temporary file (outerloop.uploads.SpoolUploadHandler), so a folder holds
one file descriptor however many files it has. Django's TemporaryFileUploadHandler held one
per file, and a folder of ~1,000 files ran into the open-file limit (RLIMIT_NOFILE, often
1,024): "Too many open files", a 500."""

import json
import os
import resource

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from outerloop import uploads
from sessions.models import HostedBuild

Spool = uploads._Spool


@pytest.fixture
def few_open_files():
    """This process may open only 100 more files than it has open now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 100, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files in /proc")
def test_a_folder_of_more_files_than_the_open_file_limit_is_stored(
    owner_client, few_open_files, monkeypatch
):
    spools = []
    monkeypatch.setattr(uploads, "_Spool", lambda: spools.append(Spool()) or spools[-1])
    paths = ["dist/index.html"] + [f"dist/a/{n}.txt" for n in range(299)]
    files = [SimpleUploadedFile(path.rsplit("/", 1)[-1], b"x") for path in paths]
    fields = {"url": "", "title": "", "recipient": "", "channel": "dm"}

    response = owner_client.post(
        reverse("outerloop:turn"),
        {**fields, "build_folder": files, "build_paths": json.dumps(paths)},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200, response.content[:300]
    assert "location" in response.json()
    assert HostedBuild.objects.get().files == 300
    [spool] = spools  # one temporary file for the whole body, closed with the request
    assert spool.file.closed
