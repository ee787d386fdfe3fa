"""Build uploads as a view receives them: the body streamed to one temporary file on disk,
never held in memory, refused unread when it is larger than a build may be, and, for a
folder's many files, Django's per-request limits raised for that one view.

Used by the API's POST /builds (one zip) and the dashboard's "or upload a build" (a zip, or
a folder's files with their paths in a field of their own)."""

import io
import tempfile
import types

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, multipartparser
from django.utils.datastructures import ImmutableList

from sessions.builds import megabytes

# What a multipart body may hold besides the build's bytes: boundaries, headers, form fields.
FORM_OVERHEAD = 64 * 1024
# Per file of a folder: its part's boundary and headers (name, filename, type), and its path
# in the paths field (`sessions.builds.MAX_NAME_BYTES` at most, as JSON).
PER_FILE_OVERHEAD = 1024 + 256
PER_PATH_BYTES = 1024
# Fields besides the files in a folder upload: the form's own, csrfmiddlewaretoken.
MORE_FILES = 8


def content_length(request: HttpRequest) -> int:
    """The request's declared body size in bytes (0 when absent or not a number)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def body_limit(*, files: int = 1) -> int:
    """The largest request body a build upload of up to `files` files may be, in bytes: a
    build's upload limit (OUTERLOOP_HOSTED_MAX_UPLOAD) and the form around the files."""
    return settings.OUTERLOOP_HOSTED_MAX_UPLOAD + FORM_OVERHEAD + files * PER_FILE_OVERHEAD


def too_large(request: HttpRequest, *, files: int = 1) -> bool:
    """Whether the request declares a body over `body_limit(files=files)`: it is refused
    before a byte of it is read."""
    return content_length(request) > body_limit(files=files)


def largest_upload() -> str:
    """OUTERLOOP_HOSTED_MAX_UPLOAD for a person: "50 MB"."""
    return megabytes(settings.OUTERLOOP_HOSTED_MAX_UPLOAD)


class _Spool:
    """One temporary file on disk that every file of a request is written into, one after
    the other, closed (and so deleted) once the parser and every file read from it let go."""

    def __init__(self):
        # Closed by release(), after the last file reading it.
        self.file = tempfile.TemporaryFile(suffix=".upload", dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
        self.holders = 0

    def hold(self) -> None:
        self.holders += 1

    def release(self) -> None:
        self.holders -= 1
        if self.holders <= 0:
            self.file.close()


class _Part(io.RawIOBase):
    """The bytes `start` to `start + size` of a spool, as a readable, seekable file of its
    own. Closing it closes only this window (the spool closes after its last one)."""

    def __init__(self, spool: _Spool, start: int, size: int):
        self.spool, self.start, self.size, self.position = spool, start, size, 0
        spool.hold()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self.size - self.position)
        if wanted <= 0:
            return 0
        self.spool.file.seek(self.start + self.position)
        read = self.spool.file.readinto(memoryview(buffer)[:wanted])
        self.position += read
        return read

    def close(self) -> None:
        if not self.closed:
            self.spool.release()
        super().close()


class SpoolUploadHandler(FileUploadHandler):
    """Every file of a request written into one temporary file on disk (`_Spool`), each
    handed to the view as an UploadedFile reading its own stretch of it. A folder of 5,000
    files holds one open file descriptor; Django's TemporaryFileUploadHandler holds one per
    file until the request ends, and a folder of ~1,000 runs into the process's open-file
    limit (RLIMIT_NOFILE, often 1,024: "Too many open files")."""

    def __init__(self, request=None):
        super().__init__(request)
        self.spool: _Spool | None = None
        self.start = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        if self.spool is None:
            self.spool = _Spool()
            self.spool.hold()  # the parser's own hold, let go in upload_complete
        self.start = self.spool.file.seek(0, io.SEEK_END)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.spool.file.write(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile:
        self.spool.file.flush()
        return UploadedFile(
            _Part(self.spool, self.start, file_size),
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )

    def upload_complete(self) -> None:
        """The parser is done (it may have been interrupted): the spool lives on while a
        file reads from it."""
        if self.spool is not None:
            spool, self.spool = self.spool, None
            spool.release()

    def upload_interrupted(self) -> None:
        self.upload_complete()


def spool_to_disk(request: HttpRequest, *, folder: bool = False) -> None:
    """Before the body is parsed (so the view must be exempt from the CSRF middleware, which
    reads request.POST, and check CSRF itself: Django's "Modifying upload handlers on the
    fly"): every uploaded file is streamed to disk, whatever its size (Django's default keeps
    files up to 2.5 MB in memory), all into one temporary file (`SpoolUploadHandler`).

    With `folder`, this request alone may carry a folder's files, up to
    OUTERLOOP_HOSTED_MAX_FILES plus the form's fields (DATA_UPLOAD_MAX_NUMBER_FILES, 100 by
    default, stays for every other request), and fields larger by a path per file
    (DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    request.upload_handlers = [SpoolUploadHandler(request)]
    if folder:
        max_files = settings.OUTERLOOP_HOSTED_MAX_FILES
        limits = {
            "DATA_UPLOAD_MAX_NUMBER_FILES": max_files + MORE_FILES,
            "DATA_UPLOAD_MAX_MEMORY_SIZE": (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
            + max_files * PER_PATH_BYTES,
        }
        request.parse_file_upload = lambda META, post_data: _parse_with_limits(
            request, META, post_data, limits
        )


class _Limits:
    """Django's settings as one request's multipart parser sees them: `limits` over the rest."""

    def __init__(self, limits: dict[str, int]):
        self._limits = limits

    def __getattr__(self, name: str):
        if name in self._limits:
            return self._limits[name]
        return getattr(settings, name)


def _parse_with_limits(request: HttpRequest, META, post_data, limits: dict[str, int]):
    """`HttpRequest.parse_file_upload`, with Django's MultiPartParser reading `limits` in
    place of those settings. Django reads them from `settings` at parse time, process-wide
    (django/http/multipartparser.py, `MultiPartParser._parse`); changing the settings for
    one request would change them for every thread, so the parser's code runs here with
    `settings` bound to this request's view of them, and everything else unchanged."""
    request.upload_handlers = ImmutableList(
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    parser = multipartparser.MultiPartParser(
        META, post_data, request.upload_handlers, request.encoding
    )
    original = multipartparser.MultiPartParser._parse
    scope = {**vars(multipartparser), "settings": _Limits(limits)}
    parse = types.FunctionType(
        original.__code__, scope, original.__name__, original.__defaults__, original.__closure__
    )
    parser._parse = types.MethodType(parse, parser)
    return parser.parse()
