"""A demo builder with about three months of history, so anyone can see the app full.

Deterministic (a fixed random seed, dated back from now) and written with `bulk_create`,
so it takes a second or two and can be used in tests.
"""

import random
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from common.builders import Builder, EmailKind
from common.days import Timing
from common.mail import ClaimStatus, EmailClaim
from outerloop.schedule import iso_week
from reactions.expiry import expire_due
from reactions.models import (
    Channel,
    DeviceClass,
    Reaction,
    Recipient,
    Share,
    Visit,
    VisitKind,
)
from sessions.models import BuildSession, Preview

EMAIL = "demo@example.com"
DEFAULT_PASSWORD = "outerloop-demo"  # noqa: S105 - the demo's published password
TIME_ZONE = "Europe/Berlin"
HISTORY_DAYS = 91
STREAK_DAYS = 17  # the latest days all have a turn, so the demo has a streak going
REST_WEEKDAYS = [6]  # Sundays
NUDGE_TIME = time(19, 0)

PROJECTS = [
    ("Crag finder", "Which climbing wall is least busy right now: one big button.", "crag-finder"),
    ("Tide times widget", "Next high and low tide for one beach, nothing else.", "tide-times"),
    ("Split the bill", "Photo of the receipt, tap who had what, see who owes whom.", "split-bill"),
    ("Plant watering", "Add plants, get told which one is thirsty today.", "plant-water"),
    ("Sourdough timer", "Feed, fold, proof: timers that survive a locked phone.", "sourdough"),
    ("Bus stop board", "Next departures for the one stop outside my door.", "bus-board"),
    ("Chore chart", "Kids tick off chores, stars add up to pocket money.", "chore-chart"),
    ("Run club RSVP", "Thursday run: who's in, which route, no group chat.", "run-rsvp"),
    ("Flat grocery list", "One shared list, whoever is at the shop sees it live.", "groceries"),
    ("Focus with a friend", "Pomodoro where you can see your friend's timer too.", "focus-pair"),
    ("Flashcards from notes", "Paste Spanish notes, get ten cards a day.", "flashcards"),
    ("Book club picker", "Everyone adds two books, it picks fairly.", "book-pick"),
    ("One-thumb gym log", "Log a set with one thumb between sets.", "gym-log"),
    ("Recipe scaler", "Paste a recipe, change the servings, amounts follow.", "recipe-scale"),
    ("Bike repair checklist", "Step-by-step puncture fix with pictures.", "bike-fix"),
    ("Seating planner", "Drag guests to tables, it warns about feuds.", "seating"),
    ("Coffee tasting notes", "Rate a bag of beans in three taps.", "coffee-notes"),
    ("Meeting cost clock", "How much this meeting costs, ticking live.", "meeting-cost"),
    ("Birthday texts", "Reminds you, drafts the text, you send it.", "birthdays"),
    (
        "Street tool library",
        "Borrow a drill from a neighbour instead of buying one.",
        "tool-library",
    ),
]
SLUGS = {title: slug for title, _notes, slug in PROJECTS}

PEOPLE = [
    ("Sam — climbing gym", False),
    ("Priya (sister)", False),
    ("Marco from work", False),
    ("Jun, Thursday running club", False),
    ("Aunt Helen", False),
    ("Leo (lives with me)", True),
    ("Dana — old flatmate", False),
    ("Tomás, coworking desk", False),
    ("Ines — product meetup", False),
    ("Kofi (neighbour)", False),
    ("Maya, book club", False),
    ("Chris — ex-colleague", False),
]

WORDS = [
    ("I opened it on the bus and got it in about five seconds. The big button is right.", "love"),
    ("Where do I go after I've picked one? I tapped back and lost everything.", "confused"),
    ("Honestly I'd use this every Thursday. Can it remember my stop?", "would_use"),
    ("The text is tiny on my phone, I had to zoom in to read the times.", ""),
    ("Not really my thing, but my brother would love it.", "not_for_me"),
    ("I didn't understand what 'sync' meant. Sync with what?", "confused"),
    ("It loaded slowly, maybe four seconds of white screen before anything showed.", ""),
    ("Love the colours. The second screen felt empty though.", "love"),
    ("Can I share the result with someone? That's the first thing I wanted to do.", "would_use"),
    ("I tried to type my name and the keyboard covered the button.", ""),
    ("This would have saved us an argument last weekend, ha.", "would_use"),
    ("I'm not sure who it's for. Me? My kids?", "confused"),
    ("Worked first time. Added three plants and it told me to water the fern today.", "love"),
    ("The timer kept going when I locked my phone, which is exactly what I needed.", ""),
    ("I expected to swipe, not tap. Took me a moment.", ""),
    ("Why does it ask for my email before showing anything?", "confused"),
    ("Came back to it this morning, still works, still like it.", "love"),
    ("Too many options on the first screen. I just wanted the one number.", ""),
    ("My daughter grabbed the phone and did the whole chart herself.", "love"),
    ("Dark mode is lovely but the grey text is hard to read outside.", ""),
    ("Would pay for this if it split the bill by item.", "would_use"),
    ("I got an error after pressing save, it just said 'undefined'.", ""),
    ("Nice idea. I think I'd forget to open it though.", "not_for_me"),
    ("The map is the best part. Put it first?", ""),
    ("Scanned it at the counter and it worked straight away. Fast!", "love"),
    ("I don't run, so I can't really say. Looks tidy.", "not_for_me"),
    ("It said 'no stops found' for my street, but there's one right outside.", "confused"),
    ("Tried it with last night's dinner and it got the tip right.", ""),
    ("Could it send me a text instead of an email?", ""),
    ("I'd change the name, I thought it was a game.", ""),
    ("Showed it to my partner, she asked where to download it.", "would_use"),
    ("Felt calm to use. No sign-up, that's rare.", "love"),
]
POLITE = ["Looks great, well done!", "Cool 👍", "Nice!", "Very professional."]
HOUSEMATE = ["Saw it over your shoulder already, it's good.", "Yep, works. Dinner?"]


class Command(BaseCommand):
    help = "Create a demo builder with about three months of history (demo@example.com)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            help=f"The demo's password (default {DEFAULT_PASSWORD!r}, not on an https instance).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo builder first, then recreate it."
        )

    def handle(self, *args, password: str | None, reset: bool, **options) -> None:
        if password is None:
            if settings.OUTERLOOP_BASE_URL.startswith("https://"):
                raise CommandError(
                    "This looks like a public instance (https): choose a password with "
                    "--password, the default one is in the README."
                )
            password = DEFAULT_PASSWORD
        existing = Builder.objects.filter(email__iexact=EMAIL)
        if existing.exists() and not reset:
            self.stdout.write(
                f"The demo builder {EMAIL} already exists; nothing changed. "
                "Run with --reset to recreate it."
            )
            return
        with transaction.atomic():
            existing.delete()
            builder = History(random.Random(2026)).create(password)  # noqa: S311 - demo data
        shares = Share.objects.owned_by(builder)
        days = shares.values("day").distinct().count()
        self.stdout.write(
            self.style.SUCCESS(f"Created {EMAIL}: {days} days with links sent, ")
            + f"{shares.count()} shares, {Reaction.objects.owned_by(builder).count()} reactions."
        )
        login = settings.OUTERLOOP_BASE_URL + reverse("outerloop:login")
        self.stdout.write(f"Log in at {login} as {EMAIL} with the password {password}")


class History:
    """The demo's rows, built in memory day by day, then written table by table."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = timezone.now()
        self.timing = Timing(TIME_ZONE)
        self.previews: list[Preview] = []
        self.shares: list[Share] = []
        self.visits: list[Visit] = []
        self.reactions: list[Reaction] = []
        self.words = self._deck(WORDS)

    def _deck(self, items: list):
        while True:
            deck = list(items)
            self.rng.shuffle(deck)
            yield from deck

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return self.timing.moment(day, time(hour, minute))

    def create(self, password: str) -> Builder:
        self.builder = Builder(
            email=EMAIL,
            name="Alex",
            time_zone=TIME_ZONE,
            rest_weekdays=REST_WEEKDAYS,
            nudge_time=NUDGE_TIME,
        )
        today = self.builder.local_day(self.now)
        start = today - timedelta(days=HISTORY_DAYS)
        self.builder.date_joined = self.at(start, 7, 30)
        self.builder.email_confirmed_at = self.builder.date_joined  # a demo: its inbox is ours
        self.builder.set_password(password)
        self.builder.save()

        self.sessions = self._sessions(start, today)
        self.people = [
            Recipient(builder=self.builder, name=name, lives_with=lives_with)
            for name, lives_with in PEOPLE
        ]
        nudged = []
        day = start
        while day < today:
            sent = self._day(day, first=day == start, streak=(today - day).days <= STREAK_DAYS)
            if day.weekday() not in REST_WEEKDAYS and (not sent or sent.hour >= NUDGE_TIME.hour):
                nudged.append(day)
            day += timedelta(days=1)
        self._today(today)

        for person in self.people:
            sent = [share.sent_at for share in self.shares if share.recipient is person]
            person.created_at = min(sent, default=self.builder.date_joined) - timedelta(seconds=5)
        BuildSession.objects.bulk_create(self.sessions)
        Preview.objects.bulk_create(self.previews)
        Recipient.objects.bulk_create(self.people)
        Share.objects.bulk_create(self.shares)
        Visit.objects.bulk_create(self.visits)
        Reaction.objects.bulk_create(self.reactions)
        EmailClaim.objects.bulk_create(self._claims(start, today, nudged))
        expire_due(self.now, session__builder=self.builder)
        return self.builder

    def _sessions(self, start: date, today: date) -> list[BuildSession]:
        sessions = []
        step = (today - start).days / len(PROJECTS)
        for index, (title, notes, _slug) in enumerate(PROJECTS):
            day = start + timedelta(days=round(index * step))
            session = BuildSession(
                builder=self.builder,
                title=title,
                notes=notes,
                created_at=self.at(day, 8, self.rng.randrange(60)),
            )
            sessions.append(session)
        return sessions

    def _session_on(self, moment: datetime) -> BuildSession:
        return [session for session in self.sessions if session.created_at <= moment][-1]

    def _preview(self, moment: datetime) -> Preview:
        session = self._session_on(moment)
        build = sum(1 for preview in self.previews if preview.session is session) + 1
        created = moment - timedelta(minutes=self.rng.randrange(2, 15))
        preview = Preview(
            session=session,
            url=f"https://{SLUGS[session.title]}.example.dev/?build={build}",
            created_at=created,
            expires_at=created + timedelta(seconds=settings.OUTERLOOP_PREVIEW_TTL),
            frameable=self.rng.random() < 0.3,
        )
        self.previews.append(preview)
        return preview

    def _day(self, day: date, *, first: bool, streak: bool) -> datetime | None:
        """One past day's links and what came of them; returns when the first link went out."""
        roll = self.rng.random()
        if day.weekday() in REST_WEEKDAYS and not first:
            if roll < 0.75:
                return None  # resting
            outcome = "turn"
        elif first or streak:
            outcome = "turn"
        else:
            outcome = "missed" if roll < 0.13 else "silent" if roll < 0.21 else "turn"
        if outcome == "missed":
            return None
        sent_at = self.at(day, self.rng.randrange(11, 21), self.rng.randrange(60))
        preview = self._preview(sent_at)
        friends = [person for person in self.people if not person.lives_with]
        count = self.rng.choices([1, 2, 3], weights=[68, 26, 6])[0]
        for index, person in enumerate(self.rng.sample(friends, count)):
            if outcome == "silent":
                fate = self.rng.choice(["ignored", "opened", "polite"])
            else:
                later = self.rng.choices(["reacted", "opened", "polite"], weights=[45, 45, 10])
                fate = "reacted" if index == 0 else later[0]
            moment = sent_at + timedelta(minutes=index * self.rng.randrange(3, 20))
            self._share(preview, person, moment, fate)
        if self.rng.random() < 0.08:  # the housemate sees it too; that never counts
            housemate = next(person for person in self.people if person.lives_with)
            self._share(preview, housemate, sent_at + timedelta(minutes=30), "housemate")
        return sent_at

    def _today(self, today: date) -> None:
        """A link sent a little while ago: opened and tapped, no reaction yet."""
        sent_at = self.now - timedelta(minutes=35)
        if self.builder.local_day(sent_at) == today:
            self._share(self._preview(sent_at), self.people[0], sent_at, "opened")

    def _share(self, preview: Preview, person: Recipient, sent_at: datetime, fate: str) -> None:
        channel = self.rng.choices(
            [Channel.DM, Channel.TEXT, Channel.IN_PERSON, Channel.EMAIL], weights=[45, 30, 15, 10]
        )[0]
        share = Share(
            preview=preview,
            recipient=person,
            channel=channel,
            sent_at=sent_at,
            day=self.builder.local_day(sent_at),
        )
        self.shares.append(share)
        if self.rng.random() < 0.1:  # the builder checks their own link
            self._visit(share, VisitKind.OPEN, sent_at + timedelta(seconds=40), "desktop", True)
        if fate == "ignored":
            return
        in_person = channel == Channel.IN_PERSON
        device = DeviceClass.PHONE if in_person else self._device()
        wait = timedelta(seconds=30) if in_person else timedelta(minutes=self._minutes())
        opened = self._visit(share, VisitKind.OPEN, sent_at + wait, device, via_qr=in_person)
        if opened is None:
            return
        reacts = fate in {"reacted", "polite", "housemate"}
        moment = opened
        if reacts or self.rng.random() < 0.45:
            moment = self._visit(share, VisitKind.TAP, opened + timedelta(seconds=25), device)
        if reacts and moment is not None:
            late = self.rng.random() < 0.06  # answered the next day: a late reaction heals
            delay = timedelta(hours=20) if late else timedelta(minutes=self.rng.randrange(1, 12))
            self._reaction(share, moment + delay, device, fate)
        if self.rng.random() < 0.22:
            back = opened + timedelta(hours=self.rng.randrange(1, 72))
            self._visit(share, VisitKind.RETURN, back, device)

    def _device(self) -> str:
        return self.rng.choices(
            [DeviceClass.PHONE, DeviceClass.DESKTOP, DeviceClass.TABLET], weights=[70, 22, 8]
        )[0]

    def _minutes(self) -> int:
        return min(int(self.rng.expovariate(1 / 45)) + 1, 600)

    def _visit(
        self, share: Share, kind: str, at: datetime, device: str, by_builder: bool = False, **kw
    ) -> datetime | None:
        if at > self.now:
            return None
        self.visits.append(
            Visit(share=share, kind=kind, at=at, device_class=device, by_builder=by_builder, **kw)
        )
        return at

    def _reaction(self, share: Share, at: datetime, device: str, fate: str) -> None:
        if at > self.now:
            return
        if fate == "polite":  # the builder marked it: polite, not a real reaction
            text, chip, counts = self.rng.choice(POLITE), "", False
        elif fate == "housemate":
            text, chip, counts = self.rng.choice(HOUSEMATE), "", True
        else:
            (text, chip), counts = next(self.words), True
        self.reactions.append(
            Reaction(
                share=share,
                builder_id=share.recipient.builder_id,
                text=text,
                chip=chip,
                created_at=at,
                device_class=device,
                counts=counts,
                notified_at=at + timedelta(seconds=40),  # its notice went out long ago
            )
        )

    def _claims(self, start: date, today: date, nudged: list[date]) -> list[EmailClaim]:
        """The emails the demo would have had: nudges, weekly reviews, reaction notices."""
        sent = ClaimStatus.SENT

        def claim(kind: str, period: str, at: datetime) -> EmailClaim:
            return EmailClaim(
                builder=self.builder,
                kind=kind,
                period=period,
                status=sent,
                attempts=1,
                created_at=at,
                sent_at=at + timedelta(seconds=2),
            )

        claims = [
            claim(EmailKind.NUDGE, day.isoformat(), self.at(day, NUDGE_TIME.hour)) for day in nudged
        ]
        day = start
        while day < today:
            if day.weekday() == self.builder.review_weekday:
                claims.append(claim(EmailKind.REVIEW, iso_week(day), self.at(day, 18)))
            day += timedelta(days=1)
        claims += [
            claim(EmailKind.REACTION, f"reaction:{reaction.pk}", reaction.notified_at)
            for reaction in self.reactions
            if reaction.is_counting
        ]
        return claims
