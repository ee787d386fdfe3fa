"""Benchmark data, written with bulk_create: a year of one builder's history in seconds.

Every function takes the moment it seeds for and returns what the benchmark needs to ask for.
"""

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as wall_time

from django.contrib.auth.hashers import make_password

from common.builders import Builder
from common.days import local_day
from reactions.models import (
    Chip,
    DeviceClass,
    Reaction,
    Recipient,
    Share,
    Visit,
    VisitKind,
    new_token,
)
from sessions.models import BuildSession, Preview

BATCH = 2000
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
WORDS = [
    "The first screen reads well on my phone.",
    "I got lost after tapping Start; where does it save?",
    "Love the colours. The button is hard to reach with one hand.",
    "Would use this every morning if it remembered my last list.",
    "Not sure what the second tab is for.",
]


def _bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def _password() -> str:
    """One hash for every seeded builder: hashing 10,000 passwords would take minutes."""
    return make_password("bench-password-1")


def history(
    email: str, shares: int, days: int, now: datetime, rng: random.Random, today: int = 3
) -> Builder:
    """A builder with `shares` shares: `today` of them sent in the last minutes, the rest spread
    over the `days` days before today, with sessions, previews, people, opens and reactions in
    the proportions a habit produces. Today's previews are live."""
    builder = Builder.objects.create(
        email=email,
        name="Alex",
        password=_password(),
        date_joined=now - timedelta(days=days + 1),
        email_confirmed_at=now - timedelta(days=days + 1),
    )
    people = _bulk(
        Recipient,
        [
            Recipient(builder=builder, name=f"Person {n}", created_at=builder.date_joined)
            for n in range(min(shares, 300))
        ],
    )
    earlier = shares - today
    moments = [
        now - timedelta(days=days + 1) + timedelta(seconds=days * 86400 * n / earlier)
        for n in range(earlier)
    ] + [now - timedelta(minutes=today - n) for n in range(today)]
    sessions = _bulk(
        BuildSession,
        [
            BuildSession(builder=builder, title=f"Project {n % 12}, try {n}", created_at=moment)
            for n, moment in enumerate(moments[::20])
        ],
    )
    previews = _bulk(
        Preview,
        [
            Preview(
                session=session,
                url=f"https://preview-{session.pk}.example.com/",
                created_at=session.created_at,
                expires_at=session.created_at + timedelta(hours=1),
            )
            for session in sessions
        ],
    )
    made = _bulk(
        Share,
        [
            Share(
                preview=previews[n // 20],
                recipient=people[n % len(people)],
                token=new_token(),
                sent_at=moment,
                day=builder.local_day(moment),
            )
            for n, moment in enumerate(moments)
        ],
    )
    Preview.objects.filter(shares__in=made[earlier:]).update(expires_at=now + timedelta(hours=1))
    _activity(made, rng)
    return builder


def _activity(shares: list[Share], rng: random.Random) -> None:
    """Most shares opened, many tapped, about half answered."""
    visits, reactions = [], []

    def visit(share: Share, kind: str, minutes: int) -> None:
        at = share.sent_at + timedelta(minutes=minutes)
        visits.append(Visit(share=share, kind=kind, at=at, device_class=DeviceClass.PHONE))

    for share in shares:
        if rng.random() < 0.8:
            visit(share, VisitKind.OPEN, 5)
            if rng.random() < 0.6:
                visit(share, VisitKind.TAP, 6)
            if rng.random() < 0.6:
                at = share.sent_at + timedelta(minutes=9)
                reactions.append(
                    Reaction(
                        share=share,
                        builder_id=share.recipient.builder_id,
                        text=rng.choice(WORDS),
                        chip=rng.choice(Chip.values),
                        created_at=at,
                        notified_at=at,
                        device_class=DeviceClass.PHONE,
                    )
                )
    _bulk(Visit, visits)
    _bulk(Reaction, reactions)


def due_builders(count: int, now: datetime) -> list[int]:
    """Builders whose nudge (at midnight) and weekly review (today) are both due at `now`,
    none of whom sent anything today, in several time zones. Each logged a build session
    when they joined, so their review has something to review (`review.reviewable`)."""
    password = _password()
    rows = []
    for n in range(count):
        zone = ZONES[n % len(ZONES)]
        rows.append(
            Builder(
                email=f"due-{n}@example.com",
                name=f"Builder {n}",
                password=password,
                time_zone=zone,
                nudge_time=wall_time(0, 0),
                review_weekday=local_day(now, zone, 0).weekday(),
                review_time=wall_time(0, 0),
                date_joined=now - timedelta(days=60),
                email_confirmed_at=now - timedelta(days=60),
            )
        )
    ids = [builder.pk for builder in _bulk(Builder, rows)]
    joined = now - timedelta(days=60)
    _bulk(
        BuildSession, [BuildSession(builder_id=pk, title="First", created_at=joined) for pk in ids]
    )
    return ids


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def past_previews(builder_ids: list[int], count: int, now: datetime, rng: random.Random) -> None:
    """`count` previews past their expiry and not yet swept, across these builders; every
    other one shared, with opens, taps and reactions for the sweep's pulse to count."""
    per_builder = max(1, count // len(builder_ids))
    sessions = _bulk(
        BuildSession,
        [
            BuildSession(builder_id=pk, title="Last week's try", created_at=now)
            for pk in builder_ids
        ],
    )
    people = _bulk(Recipient, [Recipient(builder_id=pk, name="Sam") for pk in builder_ids])
    made = 0
    for group in _chunks(list(zip(sessions, people, strict=True)), 1000):
        previews, owners = [], []
        for session, person in group:
            for n in range(per_builder):
                created = now - timedelta(days=2, minutes=n)
                previews.append(
                    Preview(
                        session=session,
                        url=f"https://old-{session.pk}-{n}.example.com/",
                        created_at=created,
                        expires_at=created + timedelta(hours=1),
                    )
                )
                owners.append(person)
        previews = _bulk(Preview, previews[: count - made])
        made += len(previews)
        shares = _bulk(
            Share,
            [
                Share(
                    preview=preview,
                    recipient=person,
                    token=new_token(),
                    sent_at=preview.created_at,
                    day=preview.created_at.date(),
                )
                for preview, person in zip(previews, owners, strict=False)
                if preview.pk % 2 == 0
            ],
        )
        _activity(shares, rng)
