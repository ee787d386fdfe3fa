"""`outerloop share ./dist` and `outerloop preview ./dist`: a build folder packed, checked and
uploaded by the CLI (outerloop/cli_upload.py), end to end against a live server."""

import io
import os
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import storages

from outerloop.cli_upload import PROGRESS_OVER, PackRefused, Progress, pack
from reactions.models import Share
from sessions.models import BuildSession, HostedBuild, Preview
from tests.test_cli import nothing_saved, outerloop, server  # noqa: F401 - the fixture

INDEX = "<!doctype html><title>Habit tracker</title><h1>Habits</h1>"


def build_folder(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def packed_names(folder: Path):
    into = io.BytesIO()
    packed = pack(folder, into)
    into.seek(0)
    return packed, sorted(zipfile.ZipFile(into).namelist())


# Packing -----------------------------------------------------------------------------------


def test_pack_zips_the_build_and_skips_dotfiles_and_node_modules_with_a_count(tmp_path):
    folder = build_folder(
        tmp_path / "dist",
        {
            "index.html": INDEX,
            "assets/app.js": "console.log(1)",
            "assets/logo.png": b"\x89PNG....",
            ".env": "SECRET=1",
            ".git/config": "[core]",
            "node_modules/react/index.js": "x",
            "assets/.DS_Store": "x",
        },
    )

    packed, names = packed_names(folder)

    assert names == ["assets/app.js", "assets/logo.png", "index.html"]
    assert (packed.files, packed.size) == (3, len(INDEX) + len("console.log(1)") + 8)
    assert packed.skipped_warning() == (
        "Skipped 2 folders and 2 files (.git/, node_modules/, .env, assets/.DS_Store): "
        "dotfiles, node_modules/ and links are never uploaded."
    )


def test_pack_leaves_out_symbolic_links_which_could_reach_outside_the_folder(tmp_path):
    secret = build_folder(tmp_path / "home", {"id_rsa": "PRIVATE"}) / "id_rsa"
    folder = build_folder(tmp_path / "dist", {"index.html": INDEX})
    os.symlink(secret, folder / "key.txt")
    os.symlink(secret.parent, folder / "home")

    packed, names = packed_names(folder)

    assert names == ["index.html"]
    assert sorted(packed.skipped) == ["home/", "key.txt"]


def test_a_build_whose_index_is_in_its_only_folder_is_packed(tmp_path):
    folder = build_folder(tmp_path / "out", {"site/index.html": INDEX, ".DS_Store": "x"})

    _, names = packed_names(folder)

    assert names == ["site/index.html"]


@pytest.mark.parametrize(
    ("files", "said"),
    [
        (
            {"app.js": "1", "style.css": "a{}", "src/main.ts": "1"},
            "No index.html at the top of {folder}, which holds 3 items: app.js, src/, style.css.",
        ),
        (
            {"build/app.js": "1", "build/about.html": "<p>"},
            "No index.html in {folder} or in its only folder, build/, which holds: about.html, "
            "app.js.",
        ),
        (
            {".env": "1", "node_modules/x/index.html": "1"},
            "{folder} has nothing to upload (no files besides dotfiles and node_modules/).",
        ),
    ],
)
def test_a_folder_without_index_html_is_refused_saying_what_was_found(tmp_path, files, said):
    folder = build_folder(tmp_path / "dist", files)

    with pytest.raises(PackRefused) as refused:
        pack(folder, io.BytesIO())

    assert str(refused.value).startswith(said.format(folder=folder))


def test_the_progress_bar_shows_only_for_uploads_over_two_megabytes():
    quiet, loud = io.StringIO(), io.StringIO()

    small = Progress(PROGRESS_OVER, quiet)
    small.advance(PROGRESS_OVER)
    small.finish()
    big = Progress(PROGRESS_OVER + 1, loud)
    big.advance(PROGRESS_OVER + 1)
    big.finish()

    assert quiet.getvalue() == ""
    assert loud.getvalue() == "Uploading 2.0 MB…\nUploaded. The server is unpacking it…\n"


# End to end --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_share_a_folder_uploads_it_and_prints_the_link_the_preview_and_the_qr(server, tmp_path):  # noqa: F811
    url, token = server
    folder = build_folder(
        tmp_path / "habit-tracker" / "dist",
        {
            "index.html": INDEX,
            "assets/app.js": "console.log('habits')",
            "assets/video.mp4": os.urandom(PROGRESS_OVER + 1024),
            "node_modules/left-pad/index.js": "x",
            ".env": "SECRET=1",
        },
    )

    result = outerloop(
        "share", str(folder), "--to", "Sam", "--title", "Habit tracker",
        home=tmp_path, url=url, token=token,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    share = Share.objects.get()
    preview = share.preview
    assert preview.is_hosted and preview.session.title == "Habit tracker"
    assert f"Send this to Sam:\n\n  {url}/r/{share.token}/\n" in result.stdout
    assert f"The preview itself (for you to check): {preview.url}\n" in result.stdout
    assert "█" in result.stdout  # the QR code
    assert "Skipped 1 folder and 1 file (node_modules/, .env)" in result.stderr
    assert "Uploading 2.0 MB…" in result.stderr
    assert sorted(preview.build.manifest) == ["assets/app.js", "assets/video.mp4", "index.html"]
    with storages["previews"].open(f"{preview.build.key}/index.html") as stored:
        assert stored.read().decode() == INDEX


@pytest.mark.django_db(transaction=True)
def test_preview_a_folder_hosts_it_without_a_share(server, tmp_path):  # noqa: F811
    url, token = server
    folder = build_folder(tmp_path / "habit-tracker" / "dist", {"index.html": INDEX})

    result = outerloop("preview", str(folder), "--no-qr", home=tmp_path, url=url, token=token)

    assert result.returncode == 0, result.stderr
    preview = Preview.objects.get()
    assert preview.is_hosted
    assert preview.session.title == "habit-tracker"  # named after the folder above dist/
    assert f"Your preview:\n\n  {preview.url}\n" in result.stdout
    assert "A new session: “habit-tracker”" in result.stdout
    assert not Share.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_folder_without_index_html_is_refused_before_anything_is_sent(server, tmp_path):  # noqa: F811
    url, token = server
    folder = build_folder(tmp_path / "dist", {"app.js": "1"})

    result = outerloop("share", str(folder), "--to", "Sam", home=tmp_path, url=url, token=token)

    assert result.returncode == 5
    assert result.stderr == (
        f"outerloop: No index.html at the top of {folder}, which holds 1 item: app.js. Upload "
        "the folder your build writes (with index.html at its top), e.g. dist/ after "
        "`npm run build`.\nNothing was uploaded.\n"
    )
    assert nothing_saved() and not HostedBuild.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_zip_the_server_refuses_says_why_and_leaves_nothing(server, tmp_path):  # noqa: F811
    url, token = server
    archive = tmp_path / "build.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")

    result = outerloop("share", str(archive), "--to", "Sam", home=tmp_path, url=url, token=token)

    assert result.returncode == 5
    assert result.stderr.startswith("outerloop: ")
    assert result.stderr.endswith("\nNothing was saved.\n")
    assert nothing_saved() and not HostedBuild.objects.exists()
    assert not BuildSession.objects.exists()


def test_a_missing_folder_is_a_usage_error(tmp_path):
    result = outerloop(
        "preview", "./no-such-dist", home=tmp_path, url="http://127.0.0.1:9", token="ol_x"
    )

    assert result.returncode == 2
    assert result.stderr == "outerloop: No such folder: ./no-such-dist\n"
