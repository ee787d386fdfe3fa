"""Every builder-owned object is fetched through its owner: another builder's id is a 404."""

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

M = TypeVar("M", bound=Model)


def owned_or_404(source: type[M] | QuerySet[M], request: HttpRequest, **lookup) -> M:
    """`source` is a model or a queryset whose manager has `owned_by(builder)`."""
    queryset = source.all() if isinstance(source, QuerySet) else source.objects.all()
    return get_object_or_404(queryset.owned_by(request.user), **lookup)


# An id as a form sends it: ASCII digits, no more than a 64-bit id has.
MAX_ID_DIGITS = 18


def owned_choice_or_404(candidates: QuerySet[M], request: HttpRequest, field: str) -> M | None:
    """The object the request's `field` (POST on a POST, else the query string) names among
    `candidates` (say, the builder's other sessions, a merge's targets), fetched through the
    owner; None when the request names none. A value that names no candidate (another
    builder's, one left out of `candidates`, not an id) is a 404."""
    raw = (request.POST if request.method == "POST" else request.GET).get(field, "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS):
        raise Http404("No such object of yours")
    return owned_or_404(candidates, request, pk=int(raw))
