"""Every error the API answers: JSON `{"error": code, "detail": …}` with its HTTP status.

`HANDLERS` maps each exception to its answer; `outerloop.api` installs them on the API, whose
renderer writes the body (`error`). `ERRORS` is the same shape for each operation's
`response=` map, so the OpenAPI document lists it.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from common import limits


class ErrorOut(Schema):
    error: str
    detail: object


ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class Refused(Exception):
    """A request refused before anything is written: its status, code and sentence."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


class RateLimited(Exception):
    """Past `limit` (`common.limits`): a 429 whose Retry-After is the limit's window."""

    def __init__(self, limit: limits.Limit, detail: str) -> None:
        super().__init__(detail)
        self.limit = limit
        self.detail = detail


def error(api: NinjaAPI, request: HttpRequest, status: int, code: str, detail) -> HttpResponse:
    """`{"error": code, "detail": detail}` with `status`, rendered as `api` renders answers."""
    return api.create_response(request, {"error": code, "detail": detail}, status=status)


def on_invalid(request, exc, api):
    return error(api, request, 422, "invalid", exc.errors)


def on_unauthorized(request, exc, api):
    return error(
        api, request, 401, "unauthorized", "Send a valid token: Authorization: Bearer ol_…"
    )


def on_rate_limited(request, exc, api):
    response = error(api, request, 429, "rate_limited", exc.detail)
    response["Retry-After"] = str(exc.limit.seconds)
    return response


def on_too_big(request, exc, api):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    return error(api, request, 400, "too_large", f"A request body can be at most {limit} KB.")


def on_not_found(request, exc, api):
    return error(api, request, 404, "not_found", "No such object of yours.")


def on_http_error(request, exc, api):
    return error(api, request, exc.status_code, "error", str(exc))


def on_refused(request, exc, api):
    return error(api, request, exc.status, exc.code, exc.detail)


# Each handler is called as handler(request, exc, api=the API): ninja's own defaults take the
# API the same way (`ninja.errors.set_default_exc_handlers`).
HANDLERS = {
    NinjaValidationError: on_invalid,
    AuthenticationError: on_unauthorized,
    RateLimited: on_rate_limited,
    RequestDataTooBig: on_too_big,
    Http404: on_not_found,
    HttpError: on_http_error,
    Refused: on_refused,
}
