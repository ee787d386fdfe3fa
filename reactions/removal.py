"""Deleting what a builder sent: a link, a preview with its links, a session with its previews.

A deleted link takes its visits and reactions with it and leaves a tombstone
(`RemovedLink`: its token and, if a renewal of it stays, that link), so the person who holds
it reads that the sender removed it, or goes on to the renewal. Every function here writes
through querysets and leaves the objects passed in as they were in memory, so a
confirmation page can run one and roll it back (`outerloop.effects`).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet

from common import changes
from reactions.models import Reaction, RemovedLink, Share, Visit
from sessions.models import BuildSession, Preview


@dataclass(frozen=True)
class WhatGoes:
    """What a deletion takes with it, as the confirmation page counts it."""

    links: int
    people: list[str]  # the names the links were sent to, each once, in name order
    visits: int
    reactions: int  # every reaction on those links, the builder's own tries included
    forwarding: int = 0  # of the links, those renewed by a link that stays: they forward to it


def what_goes(shares: QuerySet[Share]) -> WhatGoes:
    """The links in `shares` and what hangs on them (three queries, however many)."""
    rows = list(shares.order_by().values_list("pk", "replaced_by_id", "recipient__name"))
    survivors = renewals_that_stay({pk: onward for pk, onward, _ in rows})
    return WhatGoes(
        links=len(rows),
        people=sorted({name for _, _, name in rows}),
        visits=Visit.objects.filter(share__in=shares).count(),
        reactions=Reaction.objects.filter(share__in=shares).count(),
        forwarding=sum(1 for survivor in survivors.values() if survivor is not None),
    )


def renewals_that_stay(onward: dict[int, int | None]) -> dict[int, int | None]:
    """`onward`: the links going, each with its renewal (`Share.replaced_by`) or None. Each
    link going, with the first renewal along its chain that is not going (None when the
    chain ends among them): where the person holding it is forwarded from now on."""
    survivors: dict[int, int | None] = {}
    for pk in onward:
        step, seen = onward[pk], {pk}
        while step in onward and step not in seen:
            seen.add(step)
            step = onward[step]
        survivors[pk] = None if step in onward else step
    return survivors


@transaction.atomic(savepoint=False)
def remove_links(shares: QuerySet[Share]) -> int:
    """Delete these links with their visits and reactions, leaving a `RemovedLink` for each
    token; returns how many links went. A link renewed by one that stays keeps forwarding
    there (`RemovedLink.forwards_to`), and links that forwarded to one going forward past it,
    so the person holding an older link still reaches the live one. The links are locked
    first (PostgreSQL); a reaction arriving meanwhile fails at its commit and is answered
    with the removed page (`activity.record_reaction`)."""
    rows = list(
        shares.select_for_update(of=("self",))
        .order_by()
        .values_list("pk", "token", "recipient__builder_id", "replaced_by_id")
    )
    if not rows:
        return 0
    changes.builder_changed(*{builder_id for _, _, builder_id, _ in rows})
    changes.changed(*(changes.share_key(pk) for pk, _, _, _ in rows))
    survivors = renewals_that_stay({pk: onward for pk, _, _, onward in rows})
    RemovedLink.objects.bulk_create(
        [
            RemovedLink(token=token, builder_id=builder_id, forwards_to_id=survivors[pk])
            for pk, token, builder_id, _ in rows
        ]
    )
    for survivor in {s for s in survivors.values() if s is not None}:
        # A link that forwarded to one going forwards past it, to the renewal that stays.
        going = [pk for pk, onward in survivors.items() if onward == survivor]
        Share.objects.filter(replaced_by__in=going).exclude(pk__in=survivors).update(
            replaced_by=survivor
        )
    Share.objects.filter(pk__in=list(survivors)).delete()
    return len(rows)


def delete_share(share: Share) -> int:
    """Delete one link (see `remove_links`)."""
    return remove_links(Share.objects.filter(pk=share.pk))


@transaction.atomic(savepoint=False)
def delete_preview(preview: Preview) -> int:
    """Delete a preview, its links (see `remove_links`) and its publish requests; returns
    how many links went."""
    removed = remove_links(Share.objects.filter(preview=preview.pk))
    Preview.objects.filter(pk=preview.pk).delete()
    changes.builder_changed(preview.session.builder_id)
    return removed


@transaction.atomic(savepoint=False)
def delete_session(session: BuildSession) -> int:
    """Delete a build session with its previews, their links (see `remove_links`) and
    publish requests; returns how many links went."""
    removed = remove_links(Share.objects.filter(preview__session=session.pk))
    BuildSession.objects.filter(pk=session.pk).delete()
    return removed
