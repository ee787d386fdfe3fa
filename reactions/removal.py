"""Deleting what a builder sent: a link, a preview with its links, a session with its previews.

A deleted link takes its visits and reactions with it and leaves a tombstone
(`RemovedLink`, its token alone), so the person who holds it reads that the sender removed
it. Every function here writes through querysets and leaves the objects passed in as they
were in memory, so a confirmation page can run one and roll it back (`outerloop.effects`).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, QuerySet

from reactions.models import Reaction, RemovedLink, Share, Visit
from sessions.models import BuildSession, Preview


@dataclass(frozen=True)
class WhatGoes:
    """What a deletion takes with it, as the confirmation page counts it."""

    links: int
    people: list[str]  # the names the links were sent to, each once, in name order
    visits: int
    reactions: int  # every reaction on those links, the builder's own tries included


def what_goes(shares: QuerySet[Share]) -> WhatGoes:
    """The links in `shares` and what hangs on them (three queries, however many)."""
    names = (
        shares.order_by()
        .values("recipient__name")
        .annotate(n=Count("pk"))
        .order_by("recipient__name")
    )
    rows = list(names)
    return WhatGoes(
        links=sum(row["n"] for row in rows),
        people=[row["recipient__name"] for row in rows],
        visits=Visit.objects.filter(share__in=shares).count(),
        reactions=Reaction.objects.filter(share__in=shares).count(),
    )


@transaction.atomic(savepoint=False)
def remove_links(shares: QuerySet[Share]) -> int:
    """Delete these links with their visits and reactions, leaving a `RemovedLink` for each
    token; returns how many links went. The links are locked first (PostgreSQL), so a
    reaction arriving meanwhile waits, then finds its link gone."""
    rows = list(
        shares.select_for_update(of=("self",))
        .order_by()
        .values_list("pk", "token", "recipient__builder_id", "replaced_by_id")
    )
    if not rows:
        return 0
    RemovedLink.objects.bulk_create(
        [RemovedLink(token=token, builder_id=builder_id) for _, token, builder_id, _ in rows]
    )
    _pass_renewals_on({pk: onward for pk, _, _, onward in rows})
    Share.objects.filter(pk__in=[pk for pk, _, _, _ in rows]).delete()
    return len(rows)


def _pass_renewals_on(onward: dict[int, int | None]) -> None:
    """`onward`: the links going, each with its renewal (`Share.replaced_by`) or None. A link
    that forwarded to one of them forwards past it to the first renewal that stays, so
    deleting the middle of a chain of renewals leaves the person's older link working."""
    gone = list(onward)
    survivors: dict[int | None, list[int]] = {}
    for pk in gone:
        step, seen = onward[pk], {pk}
        while step in onward and step not in seen:
            seen.add(step)
            step = onward[step]
        survivors.setdefault(None if step in onward else step, []).append(pk)
    for successor, removed in survivors.items():
        if successor is not None:
            Share.objects.filter(replaced_by__in=removed).exclude(pk__in=gone).update(
                replaced_by=successor
            )


def delete_share(share: Share) -> int:
    """Delete one link (see `remove_links`)."""
    return remove_links(Share.objects.filter(pk=share.pk))


@transaction.atomic(savepoint=False)
def delete_preview(preview: Preview) -> int:
    """Delete a preview, its links (see `remove_links`) and its publish requests; returns
    how many links went."""
    removed = remove_links(Share.objects.filter(preview=preview.pk))
    Preview.objects.filter(pk=preview.pk).delete()
    return removed


@transaction.atomic(savepoint=False)
def delete_session(session: BuildSession) -> int:
    """Delete a build session with its previews, their links (see `remove_links`) and
    publish requests; returns how many links went."""
    removed = remove_links(Share.objects.filter(preview__session=session.pk))
    BuildSession.objects.filter(pk=session.pk).delete()
    return removed
