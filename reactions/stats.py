"""What each build session earned in the outer loop: one query for any number of sessions."""

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from reactions.models import Reaction, Share, Visit
from sessions.models import Preview


def count_of(queryset: QuerySet, path: str, distinct_field: str = "pk") -> Coalesce:
    counted = (
        queryset.filter(**{path: OuterRef("pk")})
        .order_by()
        .values(path)
        .annotate(n=Count(distinct_field, distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_outer_loop(sessions: QuerySet) -> QuerySet:
    """Annotate build sessions: previews, people shown to, opens, counting reactions, returns."""
    visits = Visit.objects.by_recipients()
    return sessions.annotate(
        previews_n=count_of(Preview.objects.all(), "session"),
        people_n=count_of(Share.objects.all(), "preview__session", "recipient"),
        opens_n=count_of(visits.opens(), "share__preview__session"),
        reactions_n=count_of(Reaction.objects.counting(), "share__preview__session"),
        returns_n=count_of(visits.returns(), "share__preview__session"),
    )


def earned_an_outer_loop(sessions: QuerySet) -> QuerySet:
    """Sessions ranked by what people did: counting reactions, then return visits."""
    return (
        with_outer_loop(sessions)
        .annotate(earned=F("reactions_n") + F("returns_n"))
        .filter(earned__gt=0)
        .order_by("-reactions_n", "-returns_n", "-created_at")
    )
