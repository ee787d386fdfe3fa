"""Uploaded builds (sessions/builds.py): a .zip or a picked folder becomes a HostedBuild whose
files sit in the "previews" storage, and every hostile or oversized upload is refused with a
message, leaving no file and no row behind.

Every zip here is a real one, written with zipfile; the odd ones (a symlink, a name that isn't
UTF-8) set the fields PKWARE's APPNOTE.TXT defines: §4.4.4 general purpose bit 11 (names are
UTF-8) and §4.4.15 external attributes (a Unix st_mode in the high 16 bits).
"""

import gzip
import hashlib
import io
import stat
import unicodedata
import zipfile
from datetime import timedelta
from pathlib import Path

import brotli
import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from sessions.builds import (
    BuildRefused,
    delete_build_files,
    store_build,
    sweep_builds,
    upload_entries,
    zip_entries,
)
from sessions.models import BuildSession, HostedBuild, Preview, PublishRequest
from sessions.tasks import build_sweep
from tests.conftest import NOW
from tests.factories import BuilderFactory

INDEX = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Crag finder</title>"
    b"<link rel=stylesheet href=/assets/app.css><div id=app></div>"
    b"<script type=module src=/assets/app.js></script></html>"
)
APP_JS = b"export const crags = [" + b'"Frankenjura",' * 2000 + b"];\n"


def stored(root: Path) -> list[str]:
    """Every file under the storage's folder, as sorted relative paths."""
    if not root.exists():
        return []
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def make_zip(files: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def refusal(owner, upload) -> str:
    with pytest.raises(BuildRefused) as refused:
        store_build(owner, zip_entries(upload) if isinstance(upload, io.IOBase) else upload)
    return refused.value.message


def assert_nothing_left(owner, root: Path) -> None:
    assert stored(root) == []
    assert not HostedBuild.objects.filter(builder=owner).exists()


# What a good upload becomes


@pytest.mark.django_db
def test_a_zip_becomes_a_build_with_its_files_variants_and_manifest(owner, previews_storage):
    upload = make_zip(
        {"index.html": INDEX, "assets/app.js": APP_JS, "assets/logo.png": b"\x89PNG" + bytes(50)}
    )

    build = store_build(owner, zip_entries(upload))

    build.refresh_from_db()
    assert build.builder == owner
    assert build.files == 3
    assert build.size == len(INDEX) + len(APP_JS) + 54
    key = build.key
    assert stored(previews_storage) == sorted(
        [
            f"{key}/index.html",  # under 1 KB: no .br or .gz (test_hosted_build_costs.py)
            f"{key}/assets/app.js",
            f"{key}/assets/app.js.br",
            f"{key}/assets/app.js.gz",
            f"{key}/assets/logo.png",
        ]
    )
    storage = storages["previews"]
    with storage.open(f"{key}/assets/app.js") as plain:
        assert plain.read() == APP_JS
    with storage.open(f"{key}/assets/app.js.gz") as gz:
        assert gzip.decompress(gz.read()) == APP_JS
    with storage.open(f"{key}/assets/app.js.br") as br:
        assert brotli.decompress(br.read()) == APP_JS
    assert build.manifest["assets/app.js"] == {
        "size": len(APP_JS),
        "etag": f'"{hashlib.sha256(APP_JS).hexdigest()[:32]}"',
        "type": "text/javascript",
        "encodings": ["br", "gzip"],
    }
    assert build.manifest["index.html"]["type"] == "text/html"
    assert build.manifest["index.html"]["encodings"] == []
    assert build.manifest["assets/logo.png"]["type"] == "image/png"
    assert build.manifest["assets/logo.png"]["encodings"] == []


@pytest.mark.django_db
def test_index_html_in_the_only_folder_is_the_root(owner):
    upload = make_zip({"dist/index.html": INDEX, "dist/assets/app.js": APP_JS})

    build = store_build(owner, zip_entries(upload))

    assert sorted(build.manifest) == ["assets/app.js", "index.html"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("app.mjs", "text/javascript"),
        ("engine.wasm", "application/wasm"),
        ("site.webmanifest", "application/manifest+json"),
        ("app.css", "text/css"),
        ("data.json", "application/json"),
        ("icon.svg", "image/svg+xml"),
        ("font.woff2", "font/woff2"),
        ("app.js.map", "application/json"),
        ("LICENSE", "application/octet-stream"),
    ],
)
def test_each_file_gets_its_content_type(owner, path, content_type):
    build = store_build(owner, zip_entries(make_zip({"index.html": INDEX, path: b"x" * 500})))

    assert build.manifest[path]["type"] == content_type


@pytest.mark.django_db
def test_a_variant_is_kept_only_when_smaller(owner, previews_storage):
    build = store_build(owner, zip_entries(make_zip({"index.html": b"<p>", "a.txt": b"x" * 4000})))

    assert build.manifest["index.html"]["encodings"] == []  # 3 bytes: compressed is larger
    assert build.manifest["a.txt"]["encodings"] == ["br", "gzip"]
    assert f"{build.key}/index.html.gz" not in stored(previews_storage)


@pytest.mark.django_db
def test_a_gz_file_the_builder_uploaded_is_theirs_not_a_variant(owner):
    upload = make_zip({"index.html": INDEX, "app.js": APP_JS, "app.js.gz": b"their own"})

    build = store_build(owner, zip_entries(upload))

    assert build.manifest["app.js"]["encodings"] == ["br"]
    with storages["previews"].open(f"{build.key}/app.js.gz") as theirs:
        assert theirs.read() == b"their own"


@pytest.mark.django_db
def test_dotfiles_node_modules_and_macos_forks_are_skipped_and_counted(owner):
    upload = make_zip(
        {
            "dist/index.html": INDEX,
            "dist/.env": b"SECRET=1",
            "dist/.git/config": b"[core]",
            "dist/node_modules/left-pad/index.js": b"module.exports = 1",
            "__MACOSX/dist/._index.html": b"\x00\x05\x16\x07",
        }
    )

    build = store_build(owner, zip_entries(upload))

    assert list(build.manifest) == ["index.html"]
    assert build.skipped == 4


@pytest.mark.django_db
def test_a_folder_picked_in_the_browser_becomes_a_build(owner):
    files = [
        SimpleUploadedFile("index.html", INDEX),
        SimpleUploadedFile("app.js", APP_JS),
        SimpleUploadedFile(".DS_Store", b"\x00"),
    ]
    paths = ["dist/index.html", "dist/assets/app.js", "dist/.DS_Store"]

    build = store_build(owner, upload_entries(files, paths))

    assert sorted(build.manifest) == ["assets/app.js", "index.html"]
    assert build.skipped == 1


@pytest.mark.django_db
def test_an_nfd_name_is_stored_as_nfc(owner):
    nfd = unicodedata.normalize("NFD", "café.html")
    build = store_build(owner, zip_entries(make_zip({"index.html": INDEX, nfd: b"<p>"})))

    assert list(build.manifest) == ["index.html", unicodedata.normalize("NFC", "café.html")]


# Refusals: each says what it found, and leaves nothing


@pytest.mark.django_db
def test_no_index_html_is_refused_saying_what_was_found(owner, previews_storage):
    upload = make_zip(
        {"dist/app.js": b"1", "src/main.ts": b"1", "package.json": b"{}", "README.md": b"#"}
    )

    message = refusal(owner, upload)

    assert message.startswith(
        "No index.html at the top of the upload or of its only folder. "
        "Found: README.md, dist/, package.json, src/."
    )
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_one_folder_without_index_html_is_refused(owner, previews_storage):
    message = refusal(owner, make_zip({"build/app.js": b"1", "build/static/a.css": b"a"}))

    assert "of its only folder. Found: build/." in message
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_an_empty_upload_is_refused(owner, previews_storage):
    assert "empty" in refusal(owner, io.BytesIO(b""))
    assert "empty" in refusal(owner, make_zip({}))
    assert "empty" in refusal(owner, upload_entries([]))
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_only_skipped_files_is_refused(owner):
    assert "Nothing to host" in refusal(owner, make_zip({".env": b"x", "node_modules/a.js": b"1"}))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        b"this is no zip at all",
        b"PK\x03\x04" + bytes(200),  # a local header, then nothing
    ],
)
def test_a_file_that_is_no_zip_is_refused(owner, previews_storage, data):
    assert "isn't a zip that can be read" in refusal(owner, io.BytesIO(data))
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_a_corrupt_zip_is_refused_after_some_files_were_written(owner, previews_storage):
    """The last file's compressed bytes are damaged: the first two are already in storage
    when reading it fails, and they must go."""
    upload = make_zip({"index.html": INDEX, "a.js": APP_JS, "z.js": APP_JS})
    data = bytearray(upload.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("z.js")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 10 : start + 40] = bytes(30)

    message = refusal(owner, io.BytesIO(bytes(data)))

    assert "The zip is damaged: z.js can't be read" in message
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_a_zip_bomb_stops_at_the_upload_limit(owner, previews_storage, settings):
    """1 GiB of zeros deflates to about 1 MB. Its headers say the truth here; the next test
    makes them lie."""
    settings.OUTERLOOP_HOSTED_MAX_FILE = 2 * 1024**3
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("index.html", "w", force_zip64=True) as bomb,
    ):
        zeros = bytes(1024**2)
        for _ in range(1024):
            bomb.write(zeros)
    assert buffer.tell() < 2 * 1024**2

    message = refusal(owner, buffer)

    assert "The files unpack to more than 50 MB (reached at index.html)" in message
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_a_zip_whose_headers_lie_about_sizes_is_measured(owner, previews_storage, settings):
    """Declared sizes of 1 byte in the central directory and the local header; the data
    inflates to 60 MB. The limit catches it while decompressing (zipfile also stops at the
    declared size and fails the CRC: either way, refused)."""
    settings.OUTERLOOP_HOSTED_MAX_FILE = 100 * 1024**2
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", bytes(60 * 1024**2))
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("index.html")
    real = info.file_size.to_bytes(4, "little")
    data = data.replace(real, (1).to_bytes(4, "little"))

    message = refusal(owner, io.BytesIO(bytes(data)))

    assert "index.html" in message
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_a_zip_larger_than_the_upload_limit_is_refused_unread(owner, settings):

    settings.OUTERLOOP_HOSTED_MAX_UPLOAD = 1024**2
    upload = make_zip({"index.html": bytes(2 * 1024**2)}, method=zipfile.ZIP_STORED)

    assert refusal(owner, upload) == "The zip is 2.0 MB; an upload may be 1 MB."


@pytest.mark.django_db
def test_a_file_over_the_file_limit_is_refused(owner, previews_storage, settings):
    settings.OUTERLOOP_HOSTED_MAX_FILE = 1024**2
    upload = make_zip({"index.html": INDEX, "video.mp4": bytes(2 * 1024**2)})

    message = refusal(owner, upload)

    assert message == "video.mp4 is 2 MB; a file may be 1 MB."
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_a_file_over_the_file_limit_is_measured_not_declared(owner, previews_storage, settings):
    settings.OUTERLOOP_HOSTED_MAX_FILE = 1024**2
    files = [
        SimpleUploadedFile("index.html", INDEX),
        SimpleUploadedFile("a.bin", bytes(1024**2 + 1)),
    ]
    entries = list(upload_entries(files))
    entries[1].size = None  # nothing declared

    message = refusal(owner, entries)

    assert message == "a.bin is larger than 1 MB, the limit for one file."
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_too_many_files_are_refused(owner, previews_storage, settings):
    settings.OUTERLOOP_HOSTED_MAX_FILES = 10
    upload = make_zip({"index.html": INDEX} | {f"page{n}.html": b"<p>" for n in range(10)})

    assert refusal(owner, upload) == "The upload has more than 10 files."
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_the_builders_limit_counts_builds_still_kept(owner, previews_storage, settings):
    settings.OUTERLOOP_HOSTED_MAX_BUILDER = len(INDEX) + len(APP_JS) + 10
    first = store_build(owner, zip_entries(make_zip({"index.html": INDEX, "app.js": APP_JS})))

    message = refusal(owner, make_zip({"index.html": INDEX, "more.js": b"x" * 100}))

    assert message.startswith("Your hosted builds already hold")
    assert HostedBuild.objects.get(builder=owner) == first
    assert all(name.startswith(first.key) for name in stored(previews_storage))

    delete_build_files(first)
    store_build(owner, zip_entries(make_zip({"index.html": INDEX, "more.js": b"x" * 100})))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("../escape.html", "climbs out of the folder"),
        ("assets/../../escape.html", "climbs out of the folder"),
        ("/etc/passwd", "is an absolute path"),
        ("C:/Windows/win.ini", "starts with a drive letter"),
        ("c:evil.js", "starts with a drive letter"),
        ("assets\\app.js", "uses backslashes"),
        ("a//b.js", "has an empty part"),
        ("./a.js", "has an empty part"),
        ("bell\x07.js", "holds a control character"),
    ],
)
def test_hostile_names_are_refused(owner, previews_storage, name, says):
    upload = make_zip({"index.html": INDEX, "ok.js": APP_JS, name: b"x"})

    assert says in refusal(owner, upload)
    assert_nothing_left(owner, previews_storage)


def zip_with_mode(name: str, data: bytes, mode: int) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", INDEX)
        info = zipfile.ZipInfo(name)
        info.create_system = 3  # Unix (APPNOTE §4.4.2)
        info.external_attr = mode << 16  # APPNOTE §4.4.15: st_mode in the high 16 bits
        archive.writestr(info, data)
    buffer.seek(0)
    return buffer


@pytest.mark.django_db
def test_a_symlink_entry_is_refused(owner, previews_storage):
    """What `zip -y` writes for a link: its target as the data, S_IFLNK in the mode."""
    upload = zip_with_mode("secrets.txt", b"/etc/passwd", stat.S_IFLNK | 0o777)

    assert refusal(owner, upload) == (
        "secrets.txt in the zip is a symlink; a build may hold only files and folders."
    )
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK])
def test_a_device_entry_is_refused(owner, previews_storage, kind):
    assert "is a device" in refusal(owner, zip_with_mode("null", b"", kind | 0o666))
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_a_regular_unix_file_mode_is_fine(owner):
    build = store_build(owner, zip_entries(zip_with_mode("run.js", b"1", stat.S_IFREG | 0o644)))

    assert "run.js" in build.manifest


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("About.html", "about.html"),
        ("assets/Logo.svg", "ASSETS/logo.svg"),
        (unicodedata.normalize("NFC", "café.html"), unicodedata.normalize("NFD", "café.html")),
    ],
)
def test_names_differing_only_by_case_or_normalisation_are_refused(
    owner, previews_storage, first, second
):
    assert first != second
    upload = make_zip({"index.html": INDEX, first: b"1", second: b"2"})

    message = refusal(owner, upload)

    assert message.startswith(f"{first} and {second} differ only by letter case")
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_a_file_and_a_folder_of_the_same_name_are_refused(owner, previews_storage):
    upload = make_zip({"index.html": INDEX, "docs": b"1", "docs/a.html": b"2"})

    assert refusal(owner, upload) == "docs is both a file and the folder of docs/a.html."
    assert_nothing_left(owner, previews_storage)


def zip_with_raw_name(raw: bytes, utf8_flag: bool) -> io.BytesIO:
    """A zip with one entry named by `raw` bytes, with or without APPNOTE §4.4.4's bit 11.
    zipfile writes a str name as ASCII, or UTF-8 with the flag; a placeholder of the same
    length is patched to the raw bytes in both headers."""
    placeholder = "Q" * len(raw)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", INDEX)
        info = zipfile.ZipInfo(placeholder)
        archive.writestr(info, b"x")
    data = buffer.getvalue().replace(placeholder.encode(), raw)
    if utf8_flag:  # bit 11 of the flags (offset 6 in a local header, 8 in a central one,
        # little-endian): 0x08 in their second byte
        data = bytearray(data)
        for signature, offset in ((b"PK\x03\x04", 7), (b"PK\x01\x02", 9)):
            at = data.rfind(signature)
            data[at + offset] |= 0x08
        data = bytes(data)
    return io.BytesIO(data)


@pytest.mark.django_db
def test_a_name_that_isnt_utf8_is_refused(owner, previews_storage):
    """ "café.html" in Latin-1, no UTF-8 flag: as CP437 it would read "cafΘ.html"."""
    upload = zip_with_raw_name("café.html".encode("latin-1"), utf8_flag=False)

    message = refusal(owner, upload)

    assert message.startswith("The file name caf\\xe9.html in the zip isn't UTF-8.")
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_a_name_flagged_utf8_that_isnt_is_refused(owner, previews_storage):
    upload = zip_with_raw_name("café.html".encode("latin-1"), utf8_flag=True)

    assert "marked UTF-8 but isn't" in refusal(owner, upload)
    assert_nothing_left(owner, previews_storage)


@pytest.mark.django_db
def test_a_utf8_name_without_the_flag_is_read_as_utf8(owner):
    """Info-ZIP on Linux writes UTF-8 names without bit 11."""
    upload = zip_with_raw_name("café.html".encode(), utf8_flag=False)

    assert "café.html" in store_build(owner, zip_entries(upload)).manifest


@pytest.mark.django_db
def test_an_encrypted_entry_is_refused(owner, previews_storage):
    upload = make_zip({"index.html": INDEX})
    data = bytearray(upload.getvalue())
    data[data.rfind(b"PK\x01\x02") + 8] |= 0x01  # APPNOTE §4.4.4 bit 0: encrypted

    assert "is encrypted" in refusal(owner, io.BytesIO(bytes(data)))
    assert_nothing_left(owner, previews_storage)


# Deleting: by hand, by the sweep, with the account


@pytest.mark.django_db
def test_delete_build_files_leaves_no_file(owner, previews_storage):
    build = store_build(owner, zip_entries(make_zip({"index.html": INDEX, "a/b/c.js": APP_JS})))
    assert stored(previews_storage)

    delete_build_files(build)

    assert stored(previews_storage) == []
    assert not (previews_storage / build.key).exists()
    build.refresh_from_db()
    assert build.deleted_at is not None


def hosted_preview(owner, build, expires_at) -> Preview:
    session = BuildSession.objects.create(builder=owner, title="Crag finder")
    return Preview.hosting(session, build, expires_at=expires_at)


@pytest.mark.django_db
def test_the_sweep_deletes_a_build_kept_past_its_last_expiry(owner, previews_storage, settings):
    settings.OUTERLOOP_HOSTED_KEEP = 7 * 86400
    old = store_build(owner, zip_entries(make_zip({"index.html": INDEX})))
    renewed = store_build(owner, zip_entries(make_zip({"index.html": INDEX})))
    hosted_preview(owner, old, NOW - timedelta(days=8))
    hosted_preview(owner, renewed, NOW - timedelta(days=8))
    hosted_preview(owner, renewed, NOW - timedelta(days=6))  # renewed since: kept

    assert sweep_builds(NOW) == 1

    old.refresh_from_db()
    renewed.refresh_from_db()
    assert old.deleted_at == NOW
    assert renewed.deleted_at is None
    assert {name.split("/")[0] for name in stored(previews_storage)} == {renewed.key}
    assert sweep_builds(NOW) == 0  # once


@pytest.mark.django_db
def test_the_sweep_keeps_a_build_with_a_publish_request(owner, previews_storage):
    build = store_build(owner, zip_entries(make_zip({"index.html": INDEX})))
    preview = hosted_preview(owner, build, NOW - timedelta(days=30))
    PublishRequest.objects.create(preview=preview, domain="crags.example.com")

    assert sweep_builds(NOW) == 0
    assert stored(previews_storage)


@pytest.mark.django_db
def test_the_sweep_deletes_a_build_no_preview_uses_after_the_keep(owner, settings):
    build = store_build(owner, zip_entries(make_zip({"index.html": INDEX})))
    settings.OUTERLOOP_HOSTED_KEEP = 3600

    assert sweep_builds(build.created_at + timedelta(minutes=59)) == 0
    assert sweep_builds(build.created_at + timedelta(minutes=61)) == 1


@pytest.mark.django_db(transaction=True)
def test_deleting_the_builder_deletes_their_files(previews_storage):
    builder = BuilderFactory()
    store_build(builder, zip_entries(make_zip({"index.html": INDEX, "a.js": APP_JS})))
    assert stored(previews_storage)

    builder.delete()

    assert stored(previews_storage) == []


@pytest.mark.django_db
def test_the_files_stay_when_the_deletion_rolls_back(owner, previews_storage):
    build = store_build(owner, zip_entries(make_zip({"index.html": INDEX})))

    with pytest.raises(RuntimeError), transaction.atomic():
        build.delete()
        raise RuntimeError("rolled back")

    assert stored(previews_storage)


@pytest.mark.django_db
def test_beat_runs_the_build_sweep(owner, previews_storage, settings):
    """The sweep is a task of its own on beat's schedule (sessions.tasks.build_sweep)."""
    entry = settings.CELERY_BEAT_SCHEDULE["build-sweep"]
    assert entry["task"] == build_sweep.name == "sessions.tasks.build_sweep"
    settings.OUTERLOOP_HOSTED_KEEP = 0
    build = store_build(owner, zip_entries(make_zip({"index.html": INDEX})))
    hosted_preview(owner, build, NOW - timedelta(seconds=1))

    assert build_sweep.delay().get() == 1
    assert stored(previews_storage) == []


def test_a_zip_listing_too_many_entries_is_refused_before_they_are_read(
    owner, previews_storage, settings
):
    """Reading a zip's list costs memory per entry, so a list of a million tiny entries
    (skipped ones included) is refused by counting its records first."""
    settings.OUTERLOOP_HOSTED_MAX_FILES = 3
    files = {"index.html": b"<p>hi</p>"} | {f"node_modules/x/{n}.js": b"" for n in range(30)}

    message = refusal(owner, make_zip(files))

    assert "more than 30 entries" in message
    assert_nothing_left(owner, previews_storage)


def test_the_entry_count_in_the_zips_end_record_is_not_trusted(owner, previews_storage, settings):
    settings.OUTERLOOP_HOSTED_MAX_FILES = 3
    files = {"index.html": b"<p>hi</p>"} | {f"node_modules/{n}.js": b"" for n in range(30)}
    data = bytearray(make_zip(files).getvalue())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2  # "1 entry", twice

    assert "more than 30 entries" in refusal(owner, io.BytesIO(bytes(data)))


def test_a_zip64_zip_is_counted_too(owner, settings):
    """Past 65,535 entries a zip's end record moves to its zip64 form (APPNOTE 4.3.14)."""
    settings.OUTERLOOP_HOSTED_MAX_FILES = 3
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("index.html", b"<p>hi</p>")
        for n in range(0x10000):
            archive.writestr(f"node_modules/{n}", b"")
    assert b"PK\x06\x06" in buffer.getvalue()[-200:]
    buffer.seek(0)

    assert "more than 30 entries" in refusal(owner, buffer)
