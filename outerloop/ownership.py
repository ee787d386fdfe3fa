"""Every builder-owned object is fetched through its owner: another builder's id is a 404."""

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

M = TypeVar("M", bound=Model)


def owned_or_404(source: type[M] | QuerySet[M], request: HttpRequest, **lookup) -> M:
    """`source` is a model or a queryset whose manager has `owned_by(builder)`."""
    queryset = source.all() if isinstance(source, QuerySet) else source.objects.all()
    return get_object_or_404(queryset.owned_by(request.user), **lookup)
