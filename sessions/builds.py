"""Uploaded builds: a .zip or a picked folder, checked and stored for a hosted preview.

`store_build(builder, entries)` turns the entries of an upload (`zip_entries` for a .zip,
`upload_entries` for the files of a folder picked in a browser) into a saved `HostedBuild`
whose files sit in `storages["previews"]` under `build.key/`, each text file beside its
precompressed `<path>.br` and `<path>.gz` (written once here, only for a file of 1 KB or
more and only when smaller). Serving (sessions/serving.py) needs nothing but the manifest and
those names.

Everything in an upload is hostile until measured. Each refusal raises `BuildRefused` with a
message for the builder, and leaves nothing behind: the files already written are deleted and
no row is saved. The limits (OUTERLOOP_HOSTED_MAX_UPLOAD, _MAX_BUILDER, _MAX_FILES,
_MAX_FILE) count bytes as they are decompressed; a zip's declared sizes are never trusted, so
a zip bomb stops at the limit. Nothing reads a whole upload or file into memory: each file is
copied in chunks through its hash and compressors into temporary files (in memory while
small), then to storage.

Names: "/"-separated paths inside the build. Refused: absolute paths, `..`, drive letters,
backslashes, control characters, names that differ from another only by letter case or by
Unicode normalisation (two such files can't both exist on macOS or Windows, so the builder's
own links can't mean both), and names that aren't UTF-8. Stored names are NFC, the form W3C's
Character Model asks of web content ("String Matching", §2.1), so links typed on any system
match. Dotfiles, dot-folders, `node_modules/` and macOS's `__MACOSX/` are skipped, never
served: the CLI warns about them; here the count is kept on the build as `build.skipped`.
"""

import contextlib
import hashlib
import html
import io
import logging
import mimetypes
import re
import shutil
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

import brotli
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, Sum
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from common.text import clean_text
from sessions.models import HostedBuild

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
# A file being stored (and each of its compressed forms) stays in memory up to this size,
# then goes to a temporary file on disk.
SPOOL_IN_MEMORY = 256 * 1024
# Files served compressed: text, and wasm (binary, but it compresses by half or more).
COMPRESSIBLE = {
    ".html", ".htm", ".css", ".js", ".mjs", ".cjs", ".json", ".svg", ".txt", ".xml",
    ".webmanifest", ".map", ".wasm", ".csv", ".md", ".ico",
}  # fmt: skip
# Python's built-in table only (never the machine's /etc/mime.types, so every host agrees),
# plus what it lacks or names differently; WHATWG MIME Sniffing and the IANA registry.
_TYPES = mimetypes.MimeTypes(filenames=())
EXTRA_TYPES = {
    ".js": "text/javascript",  # RFC 9239 §6
    ".mjs": "text/javascript",
    ".cjs": "text/javascript",
    ".wasm": "application/wasm",  # WebAssembly JS API §5
    ".webmanifest": "application/manifest+json",  # W3C Web App Manifest §1.1
    ".map": "application/json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",  # RFC 8081
    ".woff2": "font/woff2",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".ico": "image/x-icon",
    ".md": "text/markdown",
}
# Compression levels: the files are compressed once and served many times, but an upload
# waits for it (a sync worker, busy the while). Measured on a 200 KB minified JS bundle:
# brotli 5 makes 61.1 KB in 3.4 ms, 9 makes 59.9 KB in 21 ms, 11 makes 55.7 KB in 220 ms;
# quality 5 costs 2% more bytes for a sixth of the time.
GZIP_LEVEL = 9
BROTLI_QUALITY = 5
# Files smaller than this are stored without .br/.gz: compressed or not, such a response
# and its headers fit in one TCP segment (an MSS of ~1,460 bytes), so the saving is nil,
# and writing two more files for each costs an upload of many small files most of its time.
COMPRESS_MIN = 1024
# S3 keys are at most 1,024 bytes of UTF-8; the build's key and a ".br" take the rest.
MAX_NAME_BYTES = 1024 - 48
# One folder or file name: most filesystems allow 255 bytes (ext4, XFS, APFS: NAME_MAX), and
# a file's ".br" or ".gz" is stored beside it under its name plus three.
MAX_PART_BYTES = 255 - len(".br")
SKIPPED_FOLDERS = {"node_modules", "__MACOSX"}
# APPNOTE.TXT (PKWARE's .ZIP File Format Specification, 6.3.10) §4.4.4, general purpose bit
# flag: bit 0, the entry is encrypted; bit 11, the "Language encoding flag (EFS)": the name
# is UTF-8. Without it the name is IBM Code Page 437 (Appendix D).
FLAG_ENCRYPTED = 0x1
FLAG_UTF8 = 0x800


class BuildRefused(Exception):
    """An upload that can't become a build. `.message` says plainly what was wrong and what
    was found, for the builder to read."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Entry:
    """One file of an upload. `name` is its path inside the upload ("/" separated, as sent);
    `size` the size it declares (bytes, or None), never trusted; `open()` a fresh stream of
    its bytes, which may raise BuildRefused while read (a corrupt zip)."""

    name: str
    size: int | None
    open: Callable[[], BinaryIO]


def megabytes(size: int) -> str:
    """`size` bytes for a person: "50 MB", "1.5 MB" (powers of 1,024, as the limits are set)."""
    value = size / 1024**2
    return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"


# Reading uploads


class _ZipReader(io.RawIOBase):
    """An entry's bytes as zipfile decompresses them, its failures (a bad CRC, a truncated
    stream, a method it can't decompress) turned into BuildRefused."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo):
        self.name = info.filename
        try:
            self.stream = archive.open(info)
        except (zipfile.BadZipFile, NotImplementedError, zlib.error, EOFError, OSError) as error:
            raise _damaged(self.name, error) from None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            return self.stream.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            raise _damaged(self.name, error) from None

    def close(self) -> None:
        self.stream.close()
        super().close()


def _damaged(name: str, error: Exception) -> BuildRefused:
    return BuildRefused(
        f"The zip is damaged: {name} can't be read ({error}). Zip the folder again."
    )


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as UTF-8, or BuildRefused. APPNOTE §4.4.4 bit 11 set: zipfile has
    decoded UTF-8 already. Unset, the spec says CP437 (Appendix D), but in practice the
    bytes are whatever the zipping machine used: Info-ZIP on Linux and older macOS write
    UTF-8 without the flag, Windows its ANSI or OEM code page. We take the raw bytes as
    UTF-8 when they are valid UTF-8 (CP437 text of box-drawing letters is the only thing
    that could be misread so) and refuse any other name rather than guess a code page and
    serve a file under a name the builder's links don't use."""
    if info.flag_bits & FLAG_UTF8:
        return info.orig_filename
    raw = info.orig_filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        shown = raw.decode("ascii", errors="backslashreplace")
        raise BuildRefused(
            f"The file name {shown} in the zip isn't UTF-8. Rename it, or zip the folder with a "
            "tool that writes UTF-8 names (Outer Loop's CLI, macOS Finder, 7-Zip)."
        ) from None


def _kind_of(info: zipfile.ZipInfo) -> str | None:
    """What a zip entry is when it's no regular file or folder: "symlink", "device", or None.
    APPNOTE §4.4.15, external file attributes: host-dependent; Unix zippers (Info-ZIP,
    `zip -y`, Python's zipfile) put the file's st_mode in the high 16 bits. Other hosts leave
    them 0, a plain file."""
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if not kind or kind in (stat.S_IFREG, stat.S_IFDIR):
        return None
    return "symlink" if kind == stat.S_IFLNK else "device"


# A zip may list this many times OUTERLOOP_HOSTED_MAX_FILES entries, counting what is skipped
# (node_modules/, dotfiles) and folders: reading a zip's list costs memory for each entry.
ZIP_ENTRIES_PER_FILE = 10
_EOCD = struct.Struct("<4s4H2LH")  # APPNOTE.TXT 4.3.16: end of central directory record
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 4.3.15
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # 4.3.14
_CENTRAL_HEADER = 46  # 4.3.12: fixed part of a central directory file header


def count_zip_entries(fileobj: BinaryIO, most: int) -> int:
    """How many entries a zip's central directory holds, counted record by record without
    building them (so a zip of a million tiny entries costs no memory here), up to `most`
    + 1; -1 when the directory can't be found or read (`zipfile` then says what is wrong).
    Layouts from PKWARE's APPNOTE.TXT 6.3.10, sections 4.3.12 to 4.3.16; the counts in the
    end record are never trusted, only the records themselves."""
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    tail_start = max(0, size - (_EOCD.size + 0xFFFF))
    fileobj.seek(tail_start)
    tail = fileobj.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return -1
    eocd_at = tail_start + at
    *_, cd_size, _cd_offset, _comment = _EOCD.unpack_from(tail, at)
    cd_end = eocd_at
    locator_at = at - _ZIP64_LOCATOR.size
    if locator_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
        _, _, zip64_at, _ = _ZIP64_LOCATOR.unpack_from(tail, locator_at)
        fileobj.seek(zip64_at)
        record = fileobj.read(_ZIP64_EOCD.size)
        if len(record) < _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
            return -1
        cd_size = _ZIP64_EOCD.unpack(record)[8]
        cd_end = zip64_at  # the zip64 end record follows the central directory
    position = cd_end - cd_size
    if position < 0:
        return -1
    fileobj.seek(position)
    count = 0
    while position < cd_end and count <= most:
        header = fileobj.read(_CENTRAL_HEADER)
        if len(header) < _CENTRAL_HEADER or header[:4] != b"PK\x01\x02":
            return -1
        name, extra, comment = struct.unpack_from("<3H", header, 28)
        fileobj.seek(name + extra + comment, io.SEEK_CUR)
        position += _CENTRAL_HEADER + name + extra + comment
        count += 1
    return count


def zip_entries(fileobj: BinaryIO) -> Iterator[Entry]:
    """The files of a .zip upload (a seekable binary file), in the zip's order; folders'
    own entries are left out. Raises BuildRefused for a file that is no zip or a damaged one,
    a zip larger than OUTERLOOP_HOSTED_MAX_UPLOAD, an encrypted entry, a symlink or device
    entry, or a name that isn't UTF-8 (see `_zip_name`). Entries' `open()` streams
    decompress, failing with BuildRefused on a bad CRC or truncated data."""
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    if size == 0:
        raise BuildRefused("The upload is empty: the zip has no bytes.")
    limit = settings.OUTERLOOP_HOSTED_MAX_UPLOAD
    if size > limit:
        raise BuildRefused(f"The zip is {megabytes(size)}; an upload may be {megabytes(limit)}.")
    most = ZIP_ENTRIES_PER_FILE * settings.OUTERLOOP_HOSTED_MAX_FILES
    if count_zip_entries(fileobj, most) > most:
        raise BuildRefused(
            f"The zip lists more than {most:,} entries (folders and skipped files such as "
            "node_modules/ count too). Zip only the build folder."
        )
    fileobj.seek(0)
    try:
        archive = zipfile.ZipFile(fileobj)
    except UnicodeDecodeError:
        raise BuildRefused(
            "A file name in the zip is marked UTF-8 but isn't. Zip the folder again."
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        raise BuildRefused(
            f"This isn't a zip that can be read ({error}). Upload a .zip of the build folder."
        ) from None
    for info in archive.infolist():
        name = _zip_name(info)
        kind = _kind_of(info)
        if kind:
            raise BuildRefused(
                f"{name} in the zip is a {kind}; a build may hold only files and folders."
            )
        if info.flag_bits & FLAG_ENCRYPTED:
            raise BuildRefused(
                f"{name} in the zip is encrypted. Zip the folder without a password."
            )
        if name.endswith("/"):
            continue
        yield Entry(name, info.file_size, lambda info=info: _ZipReader(archive, info))


def upload_entries(files: list[UploadedFile], paths: list[str] | None = None) -> Iterator[Entry]:
    """The files of a folder picked in a browser (`<input type=file webkitdirectory>`): each
    file's name is its path relative to the picked folder's parent (`webkitRelativePath`,
    e.g. "dist/assets/app.js"). Django keeps only the last part of a multipart file name
    (`MultiPartParser.sanitize_file_name`), so a view passes the relative paths beside the
    files as `paths` (same order); without them each file's `name` is used."""
    if paths is not None and len(paths) != len(files):
        raise BuildRefused(f"The upload names {len(paths)} paths for {len(files)} files.")
    for index, upload in enumerate(files):
        name = paths[index] if paths is not None else upload.name

        def open_upload(upload=upload) -> BinaryIO:
            upload.seek(0)
            return upload

        yield Entry(name, upload.size, open_upload)


# Checking names


def _clean_name(name: str) -> str:
    """`name` as stored (NFC), or BuildRefused saying what is wrong with it."""
    shown = name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name
    if not name:
        raise BuildRefused("A file in the upload has no name.")
    if any(unicodedata.category(char) in {"Cc", "Cf", "Cs"} for char in name):
        raise BuildRefused(f"The file name {shown} holds a control character.")
    if "\\" in name:
        raise BuildRefused(f"The file name {shown} uses backslashes; paths use / only.")
    if name.startswith("/"):
        raise BuildRefused(f"The file name {shown} is an absolute path; paths are relative.")
    if len(name) >= 2 and name[1] == ":" and name[0].isascii() and name[0].isalpha():
        raise BuildRefused(f"The file name {shown} starts with a drive letter.")
    parts = name.split("/")
    if ".." in parts:
        raise BuildRefused(f"The file name {shown} climbs out of the folder (..).")
    if any(part in {"", "."} for part in parts):
        raise BuildRefused(f"The file name {shown} has an empty part (// or /./).")
    clean = unicodedata.normalize("NFC", name)
    if len(clean.encode("utf-8")) > MAX_NAME_BYTES:
        raise BuildRefused(f"The file name {shown[:80]}… is longer than {MAX_NAME_BYTES} bytes.")
    for part in clean.split("/"):
        if len(part.encode("utf-8")) > MAX_PART_BYTES:
            raise BuildRefused(
                f"The file name {shown[:80]}… has a folder or file name longer than "
                f"{MAX_PART_BYTES} bytes ({len(part.encode('utf-8')):,}). Shorten it."
            )
    return clean


def _skipped(name: str) -> bool:
    """Whether a file is left out of every build: a dotfile, anything in a dot-folder,
    node_modules/ or __MACOSX/ (Finder's resource forks)."""
    return any(part.startswith(".") or part in SKIPPED_FOLDERS for part in name.split("/"))


def _find_root(names: list[str]) -> str:
    """The folder the build is served from: "" when index.html is at the top of the upload,
    "<folder>/" when the upload is one folder with index.html at its top; else BuildRefused
    listing what the top holds."""
    if "index.html" in names:
        return ""
    tops = sorted({name.split("/")[0] + ("/" if "/" in name else "") for name in names})
    if len(tops) == 1 and tops[0].endswith("/") and f"{tops[0]}index.html" in names:
        return tops[0]
    shown = ", ".join(tops[:8]) + (" …" if len(tops) > 8 else "")
    raise BuildRefused(
        f"No index.html at the top of the upload or of its only folder. Found: {shown}. "
        "Upload the folder "
        "your build writes (often dist/, build/ or out/)."
    )


def _plan(entries: Iterable[Entry]) -> tuple[dict[str, Entry], int]:
    """The files to store, by their path inside the build, and how many were skipped.
    Refuses names that collide, too many files, a declared size over a limit, no files."""
    kept: dict[str, Entry] = {}
    seen: dict[str, str] = {}  # casefolded NFC name: the name as sent
    folders: dict[str, str] = {}  # casefolded NFC folder: a name inside it
    skipped = 0
    max_files = settings.OUTERLOOP_HOSTED_MAX_FILES
    for entry in entries:
        name = _clean_name(entry.name)
        if _skipped(name):
            skipped += 1
            continue
        folded = name.casefold()
        if folded in seen:
            raise BuildRefused(
                f"{seen[folded]} and {entry.name} differ only by letter case or accents' "
                "encoding: a phone or a Mac can't keep both. Rename one."
            )
        if folded in folders:
            raise BuildRefused(f"{entry.name} is both a file and the folder of {folders[folded]}.")
        parts = folded.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in seen:
                raise BuildRefused(f"{seen[folder]} is both a file and the folder of {entry.name}.")
            folders.setdefault(folder, entry.name)
        seen[folded] = entry.name
        kept[name] = entry
        if len(kept) > max_files:
            raise BuildRefused(f"The upload has more than {max_files:,} files.")
    if not kept:
        if skipped:
            raise BuildRefused(
                f"Nothing to host: all {skipped} files are dotfiles or in node_modules/."
            )
        raise BuildRefused("The upload is empty: it has no files.")
    root = _find_root(list(kept))
    return {name[len(root) :]: entry for name, entry in kept.items()}, skipped


# Storing


def content_type(path: str) -> str:
    """The Content-Type a file is served with, from its extension; unknown ones are bytes."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in EXTRA_TYPES:
        return EXTRA_TYPES[suffix]
    guessed, _ = _TYPES.guess_type("x" + suffix, strict=False)
    return guessed or "application/octet-stream"


class _Budget:
    """Bytes an upload may still unpack: the upload limit, or what is left of the builder's."""

    def __init__(self, builder):
        self.builder = builder
        self.used = 0
        self.upload_limit = settings.OUTERLOOP_HOSTED_MAX_UPLOAD
        self.builder_limit = settings.OUTERLOOP_HOSTED_MAX_BUILDER
        self.builder_kept = kept_bytes(builder)
        if self.builder_kept >= self.builder_limit:
            raise self.builder_refusal()

    def builder_refusal(self) -> BuildRefused:
        return BuildRefused(
            f"Your hosted builds already hold {megabytes(self.builder_kept)} of "
            f"{megabytes(self.builder_limit)}. They are deleted "
            f"{settings.OUTERLOOP_HOSTED_KEEP // 86400} days after their last preview ends."
        )

    def recount(self) -> None:
        """Check again against what the builder's builds hold now (another upload may have
        finished meanwhile)."""
        self.builder_kept = kept_bytes(self.builder)
        if self.builder_kept + self.used > self.builder_limit:
            raise self.builder_refusal()

    def take(self, name: str, size: int) -> None:
        self.used += size
        if self.used > self.upload_limit:
            raise BuildRefused(
                f"The files unpack to more than {megabytes(self.upload_limit)} (reached at "
                f"{name}); an upload may be {megabytes(self.upload_limit)}."
            )
        if self.builder_kept + self.used > self.builder_limit:
            raise self.builder_refusal()


def kept_bytes(builder) -> int:
    """Bytes (uncompressed) of `builder`'s builds whose files are still in storage."""
    kept = HostedBuild.objects.filter(builder=builder, deleted_at__isnull=True)
    return kept.aggregate(total=Coalesce(Sum("size"), 0))["total"]


def _spool():
    """A temporary file that stays in memory while small (most of a build's files), so a
    file costs no temporary file on disk unless it is large."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)


def _store_file(storage, key: str, path: str, entry: Entry, budget: _Budget, taken: set[str]):
    """Stream one entry to storage (and its .br/.gz when compressible, COMPRESS_MIN bytes or
    more, and smaller so); returns its manifest row. Measures every byte against the per-file
    and upload budgets."""
    max_file = settings.OUTERLOOP_HOSTED_MAX_FILE
    if entry.size is not None and entry.size > max_file:
        raise BuildRefused(
            f"{path} is {megabytes(entry.size)}; a file may be {megabytes(max_file)}."
        )
    compressible = "." + path.rsplit(".", 1)[-1].lower() in COMPRESSIBLE
    digest = hashlib.sha256()
    size = 0
    head = b""  # the bytes read before the file proved COMPRESS_MIN long
    with _spool() as plain, _spool() as gz, _spool() as br:
        gzipper = brotlier = None
        source = entry.open()
        try:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_file:
                    raise BuildRefused(
                        f"{path} is larger than {megabytes(max_file)}, the limit for one file."
                    )
                budget.take(path, len(chunk))
                digest.update(chunk)
                plain.write(chunk)
                if compressible and gzipper is None:
                    head += chunk
                    if size < COMPRESS_MIN:
                        continue
                    chunk, head = head, b""
                    # 31: a gzip stream (RFC 1952)
                    gzipper = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
                    brotlier = brotli.Compressor(quality=BROTLI_QUALITY)
                if gzipper is not None:
                    gz.write(gzipper.compress(chunk))
                    br.write(brotlier.process(chunk))
        finally:
            source.close()
        encodings = []
        if gzipper is not None:
            gz.write(gzipper.flush())
            br.write(brotlier.finish())
            for encoding, suffix, variant in (("br", ".br", br), ("gzip", ".gz", gz)):
                if variant.tell() < size and path + suffix not in taken:
                    _save(storage, f"{key}/{path}{suffix}", variant)
                    encodings.append(encoding)
        _save(storage, f"{key}/{path}", plain)
    return {
        "size": size,
        # A strong validator, quoted as the ETag header carries it (RFC 9110 §8.8.3).
        "etag": f'"{digest.hexdigest()[:32]}"',
        "type": content_type(path),
        "encodings": encodings,
    }


def _save(storage, name: str, stream) -> None:
    stream.seek(0)
    saved = storage.save(name, File(stream, name=name))
    if saved != name:  # a fresh key holds nothing, so the storage has no reason to rename
        raise RuntimeError(f"storage saved {name} as {saved}")


TITLE_READ = 64 * 1024  # bytes of index.html looked at for its <title>
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def page_title(build: HostedBuild) -> str:
    """The `<title>` of the build's index.html, as people read it (entities decoded, spaces
    folded, people's-words cleaning), at most 120 characters; "" when there is none in its
    first TITLE_READ bytes or the page isn't UTF-8."""
    try:
        with storages["previews"].open(f"{build.key}/index.html") as page:
            head = page.read(TITLE_READ)
    except OSError:
        return ""
    found = _TITLE.search(head)
    if found is None:
        return ""
    try:
        text = html.unescape(found.group(1).decode("utf-8"))
    except UnicodeDecodeError:
        return ""
    return clean_text(" ".join(text.split()))[:120]


def store_build(builder, entries: Iterable[Entry]) -> HostedBuild:
    """A saved HostedBuild of `builder` holding the upload's files under `build.key/` in
    storages["previews"], its manifest filled ({path: {"size", "etag", "type",
    "encodings"}}), `files` and `size` (uncompressed bytes) summed, and `build.skipped` (not
    saved) the number of dotfiles and node_modules/ files left out. The root is index.html's
    folder: the top of the upload or of its only folder. Raises BuildRefused (`.message` for
    the builder) for any limit or hostile input; then, as on any other error, every file
    written is deleted and no row is saved."""
    storage = storages["previews"]
    build = HostedBuild(builder=builder)
    try:
        planned, skipped = _plan(entries)
        budget = _Budget(builder)
        manifest = {}
        taken = set(planned)
        for path, entry in planned.items():
            manifest[path] = _store_file(storage, build.key, path, entry, budget, taken)
        build.manifest = manifest
        build.files = len(manifest)
        build.size = budget.used
        with transaction.atomic():
            # Two uploads at once: the second to get here counts the first one's bytes.
            get_user_model().objects.select_for_update().filter(pk=builder.pk).first()
            budget.recount()
            build.save()
    except BaseException:
        _delete_prefix(storage, build.key)
        raise
    build.skipped = skipped
    return build


# Deleting


def _delete_prefix(storage, key: str) -> None:
    """Delete every object under `key`/ in `storage`: a folder tree on a filesystem; in S3,
    every key with the prefix, a page of the listing (at most 1,000 keys) per DeleteObjects
    request. A missing prefix is nothing to do."""
    folder = _folder(storage, key)
    if folder is not None:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(folder)
        return
    client = storage.connection.meta.client
    for page in _s3_pages(storage, key):
        batch = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if not batch:
            continue
        answer = client.delete_objects(
            Bucket=storage.bucket_name, Delete={"Objects": batch, "Quiet": True}
        )
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise OSError(
                f"S3 kept {len(answer['Errors'])} objects under {key}/: "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )


def _folder(storage, key: str) -> str | None:
    """The folder of `key` on a filesystem storage; None for S3 (which has no paths)."""
    try:
        return storage.path(key)
    except NotImplementedError:
        return None


def _s3_pages(storage, key: str) -> Iterator[dict]:
    """ListObjectsV2's pages for the objects under `key`/ (django-storages' S3Storage, whose
    `location`, when set, is the bucket's own prefix); each page holds up to 1,000."""
    location = storage.location.strip("/")
    prefix = f"{location}/{key}/" if location else f"{key}/"
    paginator = storage.connection.meta.client.get_paginator("list_objects_v2")
    return paginator.paginate(Bucket=storage.bucket_name, Prefix=prefix)


def _last_written(storage, key: str) -> datetime | None:
    """When anything under `key`/ was last written: on a filesystem its folder's mtime, in
    S3 the newest LastModified of its objects; None when nothing is there."""
    if _folder(storage, key) is not None:
        try:
            return storage.get_modified_time(key)
        except FileNotFoundError:
            return None
    pages = _s3_pages(storage, key)
    return max(
        (item["LastModified"] for page in pages for item in page.get("Contents", [])), default=None
    )


def delete_build_files(build: HostedBuild, now: datetime | None = None) -> None:
    """Delete every file of `build` from storage and record when (`deleted_at`). Safe to
    repeat; the row stays, so its previews still say what they were."""
    _delete_prefix(storages["previews"], build.key)
    build.deleted_at = now or timezone.now()
    HostedBuild.objects.filter(pk=build.pk).update(deleted_at=build.deleted_at)


def builds_due(now: datetime):
    """Builds whose files may go: kept, their newest preview expired more than
    OUTERLOOP_HOSTED_KEEP ago (a build no preview uses counts from its upload), and no
    preview of theirs has a publish request (the operator may still need the files)."""
    cutoff = now - timedelta(seconds=settings.OUTERLOOP_HOSTED_KEEP)
    return (
        HostedBuild.objects.filter(deleted_at__isnull=True)
        .exclude(previews__publish_requests__isnull=False)
        .annotate(last_expiry=Coalesce(Max("previews__expires_at"), "created_at"))
        .filter(last_expiry__lte=cutoff)
    )


def sweep_builds(now: datetime | None = None) -> int:
    """Delete the files of every build `builds_due`, then every orphan (`sweep_orphans`);
    returns how many builds and orphans. Each build is claimed first (a conditional UPDATE
    that rechecks it is still due), so a renewal that lands meanwhile keeps it, and two
    sweeps never both delete."""
    now = now or timezone.now()
    swept = 0
    for build in builds_due(now).only("pk", "key"):
        claimed = HostedBuild.objects.filter(
            pk=build.pk, pk__in=builds_due(now).values("pk")
        ).update(deleted_at=now)
        if claimed:
            _delete_prefix(storages["previews"], build.key)
            swept += 1
    return swept + sweep_orphans(now)


# An upload stores its files first and saves its row last, in seconds; files this much older
# than any row are an upload's whose worker was killed mid-way (gunicorn's timeout, the OOM
# killer), which no `except` cleaned up.
ORPHAN_AGE = timedelta(hours=1)
# A build's key as `HostedBuild.key` gets it (`sessions.hosted.new_host_label`): anything else
# at the top of the storage is not a build's, and no sweep of builds touches it.
BUILD_KEY = re.compile(r"[a-z2-7]{26}")


def sweep_orphans(now: datetime) -> int:
    """Delete every prefix at the top of storages["previews"] shaped like a build's key
    (`new_host_label`) that no kept build owns (no row, or a row whose files were deleted
    when a sweep died before deleting them) and that nothing was written under for
    ORPHAN_AGE; returns how many. They count against no builder's quota, so nothing else
    would ever delete them."""
    storage = storages["previews"]
    try:
        folders, _files = storage.listdir("")
    except FileNotFoundError:  # a filesystem storage no upload has made yet
        return 0
    kept = set(HostedBuild.objects.filter(deleted_at__isnull=True).values_list("key", flat=True))
    swept = 0
    for key in folders:
        if key in kept or not BUILD_KEY.fullmatch(key):
            continue
        written = _last_written(storage, key)
        if written is not None and written <= now - ORPHAN_AGE:
            log.warning("Deleting %s/ in the previews storage: files of no kept build", key)
            _delete_prefix(storage, key)
            swept += 1
    return swept


@receiver(post_delete, sender=HostedBuild)
def _delete_files_with_row(sender, instance: HostedBuild, **kwargs) -> None:
    """A build's row deleted (the builder deleting their account, or the admin): its files
    go too, once the deletion commits, so none is left without a row."""
    key = instance.key
    transaction.on_commit(lambda: _delete_prefix(storages["previews"], key))
