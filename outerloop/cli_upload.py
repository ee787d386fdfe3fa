"""The CLI's build upload: a build folder packed into a zip on disk (`pack`), and that zip
sent as a multipart form, streamed from the file with a progress bar (`post_multipart`).

Standard library only, like `outerloop.cli`: it never imports Django. Nothing here reads a
whole file into memory.
"""

import http.client
import os
import sys
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO
from urllib.parse import urlsplit

# The folder a package manager fills: never part of a build, often huge.
SKIPPED_FOLDERS = frozenset({"node_modules"})
# Already compressed: stored as they are in the zip rather than deflated again.
STORED_SUFFIXES = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".woff", ".woff2",
        ".mp3", ".mp4", ".webm", ".ogg", ".zip", ".gz", ".br", ".wasm", ".pdf",
    }
)  # fmt: skip
# Uploads above this many bytes show a progress bar.
PROGRESS_OVER = 2 * 1024 * 1024
CHUNK = 64 * 1024
# Names shown when saying what a folder holds.
SHOWN = 6


class PackRefused(Exception):
    """The folder can't be a build: str() says what was wrong and what was found."""


@dataclass
class Packed:
    """What `pack` put in the zip: `files` (count) and `size` (bytes, uncompressed), and what
    it left out (`skipped`: the names of dotfiles, dot-folders, node_modules/ and symbolic
    links, folders ending in "/", relative to the folder)."""

    files: int = 0
    size: int = 0
    skipped: list[str] = field(default_factory=list)

    def skipped_warning(self) -> str:
        """One sentence counting what was left out ("" for nothing)."""
        if not self.skipped:
            return ""
        folders = [name for name in self.skipped if name.endswith("/")]
        files = [name for name in self.skipped if not name.endswith("/")]
        counted = []
        if folders:
            counted.append(_count(len(folders), "folder"))
        if files:
            counted.append(_count(len(files), "file"))
        names = ", ".join(self.skipped[:SHOWN]) + (", …" if len(self.skipped) > SHOWN else "")
        return (
            f"Skipped {' and '.join(counted)} ({names}): dotfiles, node_modules/ and links "
            "are never uploaded."
        )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _left_out(entry: os.DirEntry) -> bool:
    return entry.name.startswith(".") or entry.name in SKIPPED_FOLDERS or entry.is_symlink()


def _listing(entries: list[os.DirEntry]) -> str:
    names = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in entries)
    shown = ", ".join(names[:SHOWN]) + (", …" if len(names) > SHOWN else "")
    return shown


def check_root(folder: Path) -> None:
    """Raises PackRefused unless `folder` has an index.html at its root, or at the root of its
    only subfolder (the rule the server applies too: `sessions.builds.store_build`), saying
    what it found instead. Dotfiles, node_modules/ and links don't count."""
    kept = [entry for entry in os.scandir(folder) if not _left_out(entry)]
    if any(entry.name == "index.html" and entry.is_file() for entry in kept):
        return
    if len(kept) == 1 and kept[0].is_dir():
        inner = [entry for entry in os.scandir(kept[0].path) if not _left_out(entry)]
        if any(entry.name == "index.html" and entry.is_file() for entry in inner):
            return
        raise PackRefused(
            f"No index.html in {folder} or in its only folder, {kept[0].name}/, which holds: "
            f"{_listing(inner) or 'nothing'}. Upload the folder your build writes (with "
            "index.html at its top), e.g. dist/ after `npm run build`."
        )
    if not kept:
        raise PackRefused(
            f"{folder} has nothing to upload (no files besides dotfiles and node_modules/)."
        )
    raise PackRefused(
        f"No index.html at the top of {folder}, which holds {_count(len(kept), 'item')}: "
        f"{_listing(kept)}. Upload the folder your build writes (with index.html at its "
        "top), e.g. dist/ after `npm run build`."
    )


def pack(folder: Path, into: BinaryIO) -> Packed:
    """Writes the files under `folder` into the zip `into` (an open, writable file), paths
    relative to `folder`, leaving out dotfiles, dot-folders, node_modules/ and symbolic links
    (which could point outside the folder). Checks the root first (`check_root`: raises
    PackRefused). Returns what was packed and skipped."""
    check_root(folder)
    packed = Packed()
    with zipfile.ZipFile(into, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zipped:
        for root, folders, files in os.walk(folder):
            here = Path(root)
            relative = here.relative_to(folder)
            kept_folders = []
            for name in sorted(folders):
                path = here / name
                if name.startswith(".") or name in SKIPPED_FOLDERS or path.is_symlink():
                    packed.skipped.append(f"{(relative / name).as_posix()}/")
                else:
                    kept_folders.append(name)
            folders[:] = kept_folders
            for name in sorted(files):
                path = here / name
                inside = (relative / name).as_posix()
                if name.startswith(".") or path.is_symlink() or not path.is_file():
                    packed.skipped.append(inside)
                    continue
                stored = path.suffix.lower() in STORED_SUFFIXES
                zipped.write(
                    path,
                    inside,
                    compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
                )
                packed.files += 1
                packed.size += path.stat().st_size
    return packed


class Progress:
    """A bar on `stream` for `total` bytes: redrawn in place on a terminal, a line at the start
    and the end otherwise (so a log stays readable). Silent for uploads of PROGRESS_OVER bytes
    or less."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.sent = total, 0
        self.stream = stream or sys.stderr
        self.shown = total > PROGRESS_OVER
        self.live = self.shown and self.stream.isatty()
        self.drawn = -1
        if self.shown and not self.live:
            print(f"Uploading {_megabytes(total)}…", file=self.stream, flush=True)

    def advance(self, count: int) -> None:
        self.sent += count
        if not self.live:
            return
        percent = self.sent * 100 // self.total
        if percent != self.drawn:
            self.drawn = percent
            done = self.WIDTH * self.sent // self.total
            bar = "█" * done + "·" * (self.WIDTH - done)
            line = f"\rUploading {bar} {percent:3d}% of {_megabytes(self.total)}"
            print(line, end="", file=self.stream, flush=True)

    def finish(self) -> None:
        if self.live:
            print(file=self.stream)
        if self.shown:
            print("Uploaded. The server is unpacking it…", file=self.stream, flush=True)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


@dataclass
class Answer:
    """An HTTP answer as read: `status`, `reason`, `headers` and the raw `body`."""

    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes


def _field(boundary: str, name: str, value: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def post_multipart(
    url: str,
    headers: dict[str, str],
    fields: dict[str, str],
    file_field: str,
    file_name: str,
    upload: BinaryIO,
    *,
    timeout: float,
    progress: Callable[[int], Progress] = Progress,
) -> Answer:
    """POSTs `fields` and the open file `upload` (sent as `file_field`, named `file_name`) to
    `url` as multipart/form-data (RFC 7578), with a Content-Length worked out beforehand and
    the file read CHUNK bytes at a time. `progress(total)` draws the bar. Raises OSError and
    http.client.HTTPException for a connection that fails; any status is an Answer."""
    boundary = f"outerloop-{uuid.uuid4().hex}"
    head = b"".join(_field(boundary, name, value) for name, value in fields.items())
    quoted = file_name.replace('"', "%22").replace("\r", "").replace("\n", "")
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{quoted}"\r\nContent-Type: application/zip\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = os.fstat(upload.fileno()).st_size
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.putrequest("POST", parts.path or "/")
        for name, value in {
            **headers,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        bar = progress(size)
        try:
            connection.send(head)
            upload.seek(0)
            for chunk in _chunks(upload):
                connection.send(chunk)
                bar.advance(len(chunk))
            connection.send(tail)
        except (BrokenPipeError, ConnectionResetError):
            # The server answered before reading everything (a 413, say): read its answer.
            response = connection.getresponse()
            return Answer(response.status, response.reason, response.headers, response.read())
        bar.finish()
        response = connection.getresponse()
        return Answer(response.status, response.reason, response.headers, response.read())
    finally:
        connection.close()


def _chunks(upload: BinaryIO) -> Iterator[bytes]:
    while chunk := upload.read(CHUNK):
        yield chunk
