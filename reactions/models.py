"""The outer loop: a named person, the link sent to them, what they did, what they said."""

import re
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Lower
from django.utils import timezone

from common.fields import PeoplesCharField, PeoplesTextField
from sessions.models import Preview

if TYPE_CHECKING:
    from datetime import date

    from common.builders import Builder

REACTION_MAX_LENGTH = 2000
RETURN_AFTER_SECONDS = 30 * 60


def new_token() -> str:
    """192 random bits, URL-safe: not guessable, not enumerable."""
    return secrets.token_urlsafe(24)


IDEMPOTENCY_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_idempotency_key() -> str:
    """128 random bits, URL-safe (22 characters): one per reaction form the page renders."""
    return secrets.token_urlsafe(16)


def idempotency_key_or_blank(value: str) -> str:
    """A posted key if it has the shape `new_idempotency_key` makes, else "" (no key)."""
    return value if IDEMPOTENCY_KEY_SHAPE.fullmatch(value) else ""


RECIPIENT_NAME_MAX_LENGTH = 80
# "Sam — climbing gym": a name, a dash, a note. The dash is an em or en dash (spaced or not)
# or a hyphen with a space on each side; a hyphen inside a word is part of the name
# ("Anne-Marie"). The first one splits; the note may hold more.
_NAME_NOTE_SEPARATOR = re.compile(r"\s*[\u2014\u2013]\s*|\s+-\s+")


def split_name_and_note(text: str) -> tuple[str, str]:
    """("Sam", "climbing gym") from "Sam — climbing gym"; (text, "") with no separator.

    `text` is one cleaned line (`common.text.clean_text`). Either part may come back
    empty ("— book club" has no name): callers refuse an empty name. The placeholder the
    forms show ("Sam — climbing gym", README "Today's turn") is where the format comes from.
    """
    parts = _NAME_NOTE_SEPARATOR.split(text, maxsplit=1)
    name, note = parts if len(parts) == 2 else (text, "")
    return name.strip(), note.strip()


def name_and_note(text: str) -> tuple[str, str]:
    """`split_name_and_note`, checked: raises ValueError, with a sentence for the builder,
    when the name is empty or either part is longer than RECIPIENT_NAME_MAX_LENGTH."""
    name, note = split_name_and_note(text)
    if not name:
        raise ValueError("Name one person, e.g. “Sam — climbing gym”.")
    for part, what in ((name, "name"), (note, "note")):
        if len(part) > RECIPIENT_NAME_MAX_LENGTH:
            raise ValueError(
                f"Keep the {what} to {RECIPIENT_NAME_MAX_LENGTH} characters (it has {len(part)})."
            )
    return name, note


class RecipientQuerySet(models.QuerySet):
    def owned_by(self, builder) -> "RecipientQuerySet":
        return self.filter(builder=builder)

    def named(self, name: str) -> "RecipientQuerySet":
        """The people called `name` in any letter case, compared as the unique constraint
        compares (Lower() on both sides): `iexact` uses UPPER() on PostgreSQL, which tells
        "Sami" and "SAMİ" apart where the constraint doesn't."""
        return self.alias(lower_name=Lower("name")).filter(lower_name=Lower(Value(name)))

    def sent_to_lately(self, count: int) -> "RecipientQuerySet":
        """The `count` people sent a link most recently, picked through the (recipient,
        sent_at) index before anything about them is counted."""
        latest = Share.objects.filter(recipient=OuterRef("pk")).order_by("-sent_at")
        lately = (
            self.annotate(latest=Subquery(latest.values("sent_at")[:1]))
            .filter(latest__isnull=False)
            .order_by("-latest", "-pk")
            .values("pk")[:count]
        )
        return self.filter(pk__in=lately)

    def with_progress(self) -> "RecipientQuerySet":
        """How far each person got: sent → opened → tapped → reacted → came back (one query;
        `recipients_progress` over all their links)."""
        return (
            self.annotate(
                shares_sent=Count("shares"),
                last_sent_at=Max("shares__sent_at"),
                **recipients_progress("share__recipient"),
            )
            .filter(shares_sent__gt=0)
            .order_by("-last_sent_at", "-pk")
        )


class Recipient(models.Model):
    builder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recipients"
    )
    name = PeoplesCharField(max_length=RECIPIENT_NAME_MAX_LENGTH, help_text="e.g. “Sam”.")
    note = PeoplesCharField(
        max_length=RECIPIENT_NAME_MAX_LENGTH,
        blank=True,
        db_default="",
        help_text="Who they are to you, e.g. “climbing gym” (never shown to them).",
    )
    lives_with = models.BooleanField(
        "lives with me", default=False, help_text="Reactions from people you live with don't count."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "builder", Lower("name"), name="recipient_name_unique_per_builder"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @transaction.atomic(savepoint=False)
    def merge_into(self, target: "Recipient") -> None:
        """Make this person one with `target`, the same builder's other person: this person's
        links move to `target` with their days, visits and reactions; `target` keeps its name
        and whether they live with the builder, and takes this person's note when it has
        none; this person is deleted. Raises ValueError for another builder's person or the
        same one. Writes through querysets and leaves both objects in memory as they were."""
        if target.builder_id != self.builder_id or target.pk == self.pk:
            raise ValueError("A person merges into another person of the same builder.")
        Share.objects.filter(recipient=self.pk).update(recipient=target.pk)
        if self.note and not target.note:
            Recipient.objects.filter(pk=target.pk).update(note=self.note)
        Recipient.objects.filter(pk=self.pk).delete()

    def progress_steps(self) -> list[tuple[str, bool]]:
        """Needs `with_progress()`."""
        return [
            ("sent", True),
            ("opened", self.opened),
            ("tapped", self.tapped),
            ("reacted", self.reacted),
            ("came back", self.came_back),
        ]


class Channel(models.TextChoices):
    DM = "dm", "Direct message"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    IN_PERSON = "in_person", "In person (QR code)"


# The turn rule (DESIGN.md "Turn day"): a share is a turn once a reaction counts, and a
# reaction counts unless it came from the builder's own browser, from someone they live
# with, or the builder marked it polite or scripted. Its homes: `ReactionQuerySet.counting`
# and `is_turn` for the database, `Reaction.why_not_counting` (and `is_counting`) for one
# reaction in memory; tests/test_rule_turn.py holds the forms to each other.
#
# What a reaction itself must be to count (its recipient must not live with the builder).
COUNTING_REACTION = {"counts": True, "by_builder": False}
# Why a reaction doesn't count, as the builder's pages say it, first reason first.
FROM_OWN_BROWSER = "from your own browser"
FROM_HOUSEMATE = "someone you live with"
MARKED_NOT_COUNTING = "marked polite or scripted"


def is_turn(builder: "Builder | None" = None) -> Q:
    """A share is a turn when a counting reaction answers it: `Reaction.objects.counting()`
    written as a condition on the share, so an aggregate over thousands of shares doesn't join
    share and recipient again inside every subquery. Naming the shares' `builder` lets the
    database look only at that builder's reactions."""
    reactions = Reaction.objects.filter(share=OuterRef("pk"), **COUNTING_REACTION)
    if builder is not None:
        reactions = reactions.filter(builder=builder)
    return Q(recipient__lives_with=False) & Exists(reactions)


class ShareQuerySet(models.QuerySet):
    def owned_by(self, builder) -> "ShareQuerySet":
        return self.filter(recipient__builder=builder)

    def latest_day(self) -> "date | None":
        """The newest day stamped on these shares, or None."""
        return self.aggregate(latest=Max("day"))["latest"]

    def with_turn(self) -> "ShareQuerySet":
        return self.annotate(is_turn=ExpressionWrapper(is_turn(), output_field=BooleanField()))

    def with_progress(self) -> "ShareQuerySet":
        """Per share: opened (and on what), tapped, reacted, came back (`recipients_progress`);
        never the builder's own."""
        opens = Visit.objects.by_recipients().opens().filter(share=OuterRef("pk"))
        return self.annotate(
            **recipients_progress("share"),
            opened_on=Subquery(opens.order_by("at").values("device_class")[:1]),
            opened_in_person=Exists(opens.filter(via_qr=True)),
        )


class Share(models.Model):
    preview = models.ForeignKey(Preview, on_delete=models.CASCADE, related_name="shares")
    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="shares")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.DM)
    sent_at = models.DateTimeField(default=timezone.now)
    # The builder-local date at send time: a later time-zone change never rewrites history.
    day = models.DateField()
    fresh_link_requested_at = models.DateTimeField(null=True, blank=True)
    fresh_link_notified_at = models.DateTimeField(null=True, blank=True)
    # The link a renewal later sent the same person in this one's place (set by
    # `sharing.share_preview`): once this link's preview expires, it forwards along these
    # to the newest live one (`live_replacement`). Deleting that link leaves this one as it was.
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="replaces",
    )

    objects = ShareQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["recipient", "-sent_at"]), models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.preview.session.title} → {self.recipient.name}"

    @property
    def is_expired(self) -> bool:
        return self.preview.is_expired

    def live_replacement(self) -> "Share | None":
        """Where this link forwards: the newest live link among the renewals that replaced it
        (`replaced_by`, followed link by link), or None while its own preview lives or when
        no renewal is live. Every link on the way is the same person's, and each is newer
        than the one it replaced (a hand-made loop ends the walk).

        Costs nothing for a link never renewed, else one query."""
        if self.replaced_by_id is None or not self.is_expired:
            return None
        later = {
            share.pk: share
            for share in Share.objects.filter(recipient_id=self.recipient_id, pk__gt=self.pk)
            .select_related("preview")
            .only("token", "sent_at", "replaced_by_id", "recipient_id", "preview__expires_at")
        }
        newest_live, step = None, self.replaced_by_id
        while step in later:
            share = later.pop(step)
            if not share.is_expired:
                newest_live = share
            if share.replaced_by_id is None or share.replaced_by_id <= share.pk:
                break
            step = share.replaced_by_id
        return newest_live


class VisitKind(models.TextChoices):
    OPEN = "open", "Opened"
    TAP = "tap", "Tapped Open"
    RETURN = "return", "Came back"


class DeviceClass(models.TextChoices):
    PHONE = "phone", "a phone"
    TABLET = "tablet", "a tablet"
    DESKTOP = "desktop", "a computer"


class VisitQuerySet(models.QuerySet):
    def by_recipients(self) -> "VisitQuerySet":
        """Visits by the people links were sent to: never the builder's own browser's
        (`activity.is_builders_own`), which nothing counts."""
        return self.filter(by_builder=False)

    def opens(self) -> "VisitQuerySet":
        return self.filter(kind=VisitKind.OPEN)

    def taps(self) -> "VisitQuerySet":
        return self.filter(kind=VisitKind.TAP)

    def returns(self) -> "VisitQuerySet":
        return self.filter(kind=VisitKind.RETURN)


def recipients_progress(path: str) -> dict[str, Exists]:
    """How far people got, as annotations for rows that visits and reactions reach through
    `path` ("share" for shares, "share__recipient" for people): `opened`, `tapped`, `reacted`
    and `came_back`, each a boolean Exists over the visits and reactions by recipients
    (`by_recipients`: never the builder's own). The steps after "sent" that the builder's
    pages show (`Recipient.progress_steps`)."""
    visits = Visit.objects.by_recipients().filter(**{path: OuterRef("pk")})
    reactions = Reaction.objects.by_recipients().filter(**{path: OuterRef("pk")})
    return {
        "opened": Exists(visits.opens()),
        "tapped": Exists(visits.taps()),
        "reacted": Exists(reactions),
        "came_back": Exists(visits.returns()),
    }


class Visit(models.Model):
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="visits")
    kind = models.CharField(max_length=8, choices=VisitKind.choices)
    at = models.DateTimeField(default=timezone.now)
    device_class = models.CharField(max_length=8, choices=DeviceClass.choices, blank=True)
    by_builder = models.BooleanField(default=False, help_text="The builder's own browser.")
    via_qr = models.BooleanField(default=False)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["share", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class ReactionQuerySet(models.QuerySet):
    def owned_by(self, builder) -> "ReactionQuerySet":
        return self.filter(builder=builder)

    def by_recipients(self) -> "ReactionQuerySet":
        """Reactions from the people links were sent to: never from the builder's own
        browser (`activity.is_builders_own`)."""
        return self.filter(by_builder=False)

    def counting(self) -> "ReactionQuerySet":
        """Reactions that make a turn: not the builder's own, not a housemate's, not marked
        (the turn rule above `is_turn`)."""
        return self.filter(**COUNTING_REACTION, share__recipient__lives_with=False)


class Chip(models.TextChoices):
    LOVE = "love", "Love it"
    CONFUSED = "confused", "Confused"
    WOULD_USE = "would_use", "I'd use this"
    NOT_FOR_ME = "not_for_me", "Not for me"


def words_after_chip(label: str, text: str) -> str:
    """`text` without the chip's `label` it starts with (in any letter case), if it does; the
    page's script writes "Love it — " into the box when the chip is tapped."""
    return text[len(label) :] if text.casefold().startswith(label.casefold()) else text


class Reaction(models.Model):
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="reactions")
    # The share's builder, kept on the row (it never changes) so "their newest reactions"
    # reads an index instead of joining every share they ever sent.
    builder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        db_index=False,  # reaction_builder_newest leads with it
    )
    text = PeoplesTextField(max_length=REACTION_MAX_LENGTH)
    chip = models.CharField(max_length=16, choices=Chip.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    device_class = models.CharField(max_length=8, choices=DeviceClass.choices, blank=True)
    by_builder = models.BooleanField(
        default=False, help_text="Left from the builder's own browser."
    )
    counts = models.BooleanField(
        default=True, help_text="Unticked when the builder marks it polite or scripted."
    )
    # The outbox: set once the builder's notice is sent or settled; a sweep finds the rest.
    notified_at = models.DateTimeField(null=True, blank=True)
    # The form's own random key: the same form posted again (a retry after a timeout, a
    # resend from Back) finds this reaction instead of storing a second one. "" for none.
    idempotency_key = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = ReactionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["share", "-created_at"]),
            models.Index(fields=["builder", "-created_at", "-id"], name="reaction_builder_newest"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["share", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_reaction_per_form",
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def is_counting(self) -> bool:
        """Whether it makes a turn: `why_not_counting` has no reason (reads its share's
        recipient)."""
        return not self.why_not_counting()

    @property
    def is_marked_not_counting(self) -> bool:
        """It would count but for the builder's mark (polite or scripted), so the builder
        may take the mark back."""
        return self.why_not_counting() == MARKED_NOT_COUNTING

    @property
    def chip_apart_from_text(self) -> str:
        """The chip's label when the words don't already start with it, else "": the page's
        script writes "Love it — " into the box, so "Love it" beside that says it twice."""
        if not self.chip:
            return ""
        label = self.get_chip_display()
        return "" if words_after_chip(label, self.text) != self.text else label

    def why_not_counting(self) -> str:
        """Why this reaction makes no turn, as the builder's pages say it (the first of
        FROM_OWN_BROWSER, FROM_HOUSEMATE, MARKED_NOT_COUNTING that holds), or "" when it
        counts: the turn rule on one reaction in memory, as `ReactionQuerySet.counting` is
        in the database. Reads its share's recipient (select it with the reaction)."""
        if self.by_builder:
            return FROM_OWN_BROWSER
        if self.share.recipient.lives_with:
            return FROM_HOUSEMATE
        if not self.counts:
            return MARKED_NOT_COUNTING
        return ""


# How much of the paths visited inside a hosted preview one link keeps, and how long each may be.
IN_APP_PATHS_KEPT = 50
IN_APP_PATH_MAX_LENGTH = 200


class InAppActivity(models.Model):
    """What the person did inside a hosted preview they opened from this link, as its
    injected script reported it (sessions/widget.py, reactions/widget.py): taps (pointer
    presses), when the first came, the paths they visited (`location.pathname` only, at most
    IN_APP_PATHS_KEPT, first seen first), and seconds spent with the page visible
    (heartbeats). Never keystrokes, field values or element text. One row per link; the
    builder's own browser records none."""

    share = models.OneToOneField(Share, on_delete=models.CASCADE, related_name="in_app")
    taps = models.PositiveIntegerField(default=0)
    first_tap_at = models.DateTimeField(null=True, blank=True)
    paths = models.JSONField(default=list, blank=True)
    seconds = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "in-app activity"

    def __str__(self) -> str:
        return f"{self.taps} taps, {len(self.paths)} screens, {self.seconds} s"

    def sentence(self, name: str) -> str:
        """What the builder reads, e.g. "Sam tapped 14 times across 3 screens in 2 min 40 s"."""
        taps = {0: "hasn't tapped yet", 1: "tapped once"}.get(
            self.taps, f"tapped {self.taps} times"
        )
        screens = len(self.paths)
        across = f" across {screens} screen{'s' if screens != 1 else ''}" if screens else ""
        return f"{name} {taps}{across} in {duration(self.seconds)}"


def duration(seconds: int) -> str:
    """ "40 s", "2 min 40 s", "1 h 5 min": the two largest units, the smaller left out at 0."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


class RemovedLink(models.Model):
    """What is left of a link its builder deleted: the token, so whoever opens it reads that
    the sender removed it rather than "Nothing here", or, when a renewal of it for the same
    person stayed (`forwards_to`), goes on to that link. No name, no words, no URL: a removed
    link shows nothing of what it was (`reactions.removal`)."""

    builder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="removed_links"
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    removed_at = models.DateTimeField(default=timezone.now)
    # The same person's renewal of this link that stayed: whoever opens it goes on there.
    forwards_to = models.ForeignKey(
        "Share", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"removed {self.removed_at:%Y-%m-%d %H:%M}"
