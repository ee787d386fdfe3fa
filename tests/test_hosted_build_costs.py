"""What storing a build costs, and names a filesystem can't hold (sessions/builds.py): a file
under COMPRESS_MIN bytes is stored alone, without a .br or .gz (the saving is nil, the two
more files are most of an upload of many small files' time), and a folder or file name
longer than a filesystem allows is refused in words instead of failing at save."""

import zipfile
from io import BytesIO

import pytest

from sessions.builds import COMPRESS_MIN, MAX_PART_BYTES, BuildRefused, store_build, zip_entries
from sessions.models import HostedBuild


def make_zip(files: dict[str, bytes]) -> BytesIO:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def stored(root) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.django_db
def test_a_file_under_1_kb_is_stored_without_compressed_variants(owner, previews_storage):
    small = b"let a = 1;\n" * ((COMPRESS_MIN - 1) // 11)
    large = b"let a = 1;\n" * (COMPRESS_MIN // 11 + 1)
    assert len(small) < COMPRESS_MIN <= len(large)
    upload = make_zip({"index.html": b"<p>", "small.js": small, "large.js": large})

    build = store_build(owner, zip_entries(upload))

    key = build.key
    assert stored(previews_storage) == sorted(
        f"{key}/{name}"
        for name in ["index.html", "small.js", "large.js", "large.js.br", "large.js.gz"]
    )
    assert build.manifest["small.js"]["encodings"] == []
    assert build.manifest["large.js"]["encodings"] == ["br", "gzip"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "a" * 300 + ".js",  # a file name
        "é" * 130 + "/app.js",  # a folder's: 260 bytes of UTF-8 in 130 letters
    ],
)
def test_a_name_longer_than_a_filesystem_allows_is_refused_in_words(owner, previews_storage, name):
    upload = make_zip({"index.html": b"<p>", name: b"x"})

    with pytest.raises(BuildRefused) as refused:
        store_build(owner, zip_entries(upload))

    assert f"longer than {MAX_PART_BYTES} bytes" in refused.value.message
    assert not previews_storage.exists() or stored(previews_storage) == []
    assert not HostedBuild.objects.exists()


@pytest.mark.django_db
def test_a_name_of_the_longest_part_allowed_is_stored(owner, previews_storage):
    name = "a" * (MAX_PART_BYTES - len(".js")) + ".js"
    upload = make_zip({"index.html": b"<p>", name: b"let a = 1;\n" * 200})

    build = store_build(owner, zip_entries(upload))

    assert build.manifest[name]["encodings"] == ["br", "gzip"]  # name.br: 255 bytes, fits
