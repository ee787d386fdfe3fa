"""Build uploads as a view receives them: the body streamed to temporary files on disk, never
held in memory, refused unread when it is larger than a build may be, and, for a folder's
many files, Django's per-request limits raised for that one view.

Used by the API's POST /builds (one zip) and the dashboard's "or upload a build" (a zip, or
a folder's files with their paths in a field of their own)."""

import types

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest, multipartparser
from django.utils.datastructures import ImmutableList

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
    return f"{settings.OUTERLOOP_HOSTED_MAX_UPLOAD // (1024 * 1024)} MB"


def spool_to_disk(request: HttpRequest, *, folder: bool = False) -> None:
    """Before the body is parsed (so the view must be exempt from the CSRF middleware, which
    reads request.POST, and check CSRF itself: Django's "Modifying upload handlers on the
    fly"): every uploaded file is streamed to a temporary file, whatever its size (Django's
    default keeps files up to 2.5 MB in memory).

    With `folder`, this request alone may carry a folder's files, up to
    OUTERLOOP_HOSTED_MAX_FILES plus the form's fields (DATA_UPLOAD_MAX_NUMBER_FILES, 100 by
    default, stays for every other request), and fields larger by a path per file
    (DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    request.upload_handlers = [TemporaryFileUploadHandler(request)]
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
