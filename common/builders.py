"""The builder: the one account type (Recipients never have accounts), and the one rule for
"may this builder get this email now" (`Builder.may_receive`, `BuilderQuerySet.mailable`).

The model is defined below the apps so that every app may use it, and registered under the
`outerloop` app label (its table, migrations and AUTH_USER_MODEL = "outerloop.Builder" stay
where they have always been); `outerloop.models` imports it so Django finds it at start-up."""

from datetime import date, datetime, time

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from common import bounces, days
from common.fields import PeoplesCharField

# The builder's email switches, in the order every form, export and admin page shows them.
EMAIL_SETTINGS = (
    "nudges_enabled",
    "nudge_time",
    "reviews_enabled",
    "review_weekday",
    "review_time",
    "notices_enabled",
    "email_paused",
)
# What the mail provider and the builder's confirmation have told us about the address, in
# the order the admin and the export show it (set by the app, never by a settings form).
EMAIL_STATE = (
    "email_confirmed_at",
    "email_undeliverable_at",
    "email_undeliverable_reason",
    "email_soft_bounces",
    "email_soft_bounced_since",
    "email_delivered_at",
)
# The columns that hold a builder's `bounces.Mailbox`, field by field.
MAILBOX_COLUMNS = {
    "stopped_at": "email_undeliverable_at",
    "stop": "email_undeliverable_reason",
    "soft_bounces": "email_soft_bounces",
    "soft_since": "email_soft_bounced_since",
    "delivered_at": "email_delivered_at",
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class BuilderQuerySet(models.QuerySet):
    def mailable(self) -> "BuilderQuerySet":
        """Builders `Builder.may_receive` lets have the habit's emails, as a filter: active,
        address confirmed and not stopped (`bounces.holds_back`: no stop, or a soft-bounce
        stop whose wait is over), email not paused (each switch is the caller's)."""
        waited = timezone.now() - bounces.SOFT_BOUNCE_WAIT
        return self.filter(
            models.Q(email_undeliverable_at__isnull=True)
            | models.Q(
                email_undeliverable_reason=bounces.Stop.SOFT_BOUNCED,
                email_undeliverable_at__lte=waited,
            ),
            is_active=True,
            email_confirmed_at__isnull=False,
            email_paused=False,
        )


class BuilderManager(BaseUserManager.from_queryset(BuilderQuerySet)):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "Builder":
        if not email:
            raise ValueError("A builder needs an email address.")
        builder = self.model(email=self.normalize_email(email).lower(), **fields)
        builder.set_password(password)
        builder.save(using=self._db)
        return builder

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "Builder":
        # The operator typed their own address at the server's terminal: it is confirmed.
        fields.setdefault("email_confirmed_at", timezone.now())
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> "Builder":
        return self.get(email__iexact=username)


class Builder(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = PeoplesCharField(
        max_length=80, help_text="Shown to the people you send links to, e.g. “Alex”."
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[days.validate_time_zone])
    day_start_hour = models.PositiveSmallIntegerField(
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(days.MAX_DAY_START_HOUR)],
        help_text="Night owl? Your day can start as late as 6 a.m.",
    )
    # Email: the nudge, the weekly review and reaction notices, each with its own switch.
    nudges_enabled = models.BooleanField("daily nudge", default=True)
    nudge_time = models.TimeField(default=time(10, 0))
    reviews_enabled = models.BooleanField("weekly review", default=True)
    review_weekday = models.PositiveSmallIntegerField(
        default=6, choices=[(i, name) for i, name in enumerate(WEEKDAYS)]
    )
    review_time = models.TimeField(default=time(18, 0))
    notices_enabled = models.BooleanField("reaction notices", default=True)
    email_paused = models.BooleanField("pause all email", default=False)
    # Stopped by the mail provider's events (common.bounces): when and why (a bounces.Stop).
    email_undeliverable_at = models.DateTimeField(null=True, blank=True)
    email_undeliverable_reason = models.CharField(max_length=40, blank=True)
    # Soft bounces in a row since the last delivery, from when, and the newest delivery.
    email_soft_bounces = models.PositiveSmallIntegerField(default=0, db_default=0)
    email_soft_bounced_since = models.DateTimeField(null=True, blank=True)
    email_delivered_at = models.DateTimeField(null=True, blank=True)
    # Until the builder opens the link we sent, the address may be anyone's: we send it nothing
    # but that link (and answers to what its owner asks for, such as a password reset).
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Weekdays (0 = Monday) that neither add to nor break the streak, from today on.
    rest_weekdays = models.JSONField(default=list, blank=True)
    # Which rest weekdays held from which builder-local day: [{"from": "2026-11-30",
    # "weekdays": [6]}, …], oldest first; the first entry starts on the builder's first day.
    # Written by `save()` whenever `rest_weekdays` changes, so a change applies from the day
    # of the change on and never turns a past day into a rest day, or a rest day into a miss.
    rest_day_history = models.JSONField(default=list, db_default=[], blank=True, editable=False)
    # The builder's today before their latest zone or day-start change, when that moved their
    # clock back: today never goes behind it (`days.habit_today`), so a day already lived
    # can't be reopened, sent on or declared a rest day. Written by `save()`.
    day_floor = models.DateField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = BuilderManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        app_label = "outerloop"
        verbose_name = "builder"

    def __str__(self) -> str:
        return self.email

    @classmethod
    def from_db(cls, db, field_names, values) -> "Builder":
        builder = super().from_db(db, field_names, values)
        builder._saved_timing = (builder.time_zone, builder.day_start_hour)
        return builder

    def save(self, *args, **kwargs) -> None:
        """Saves, stamping what a settings change must not rewrite (DESIGN.md, "History is
        stamped"): a zone or day-start change keeps today from going back behind the day it
        was (`day_floor`); a change of `rest_weekdays` holds from the builder's today on
        (`rest_day_history`); the first save stamps the rest weekdays from the day they joined."""
        stamped = []
        saved_timing = getattr(self, "_saved_timing", None)
        if saved_timing is not None and saved_timing != (self.time_zone, self.day_start_hour):
            before = days.Timing(*saved_timing).day_of(timezone.now())
            if self.day_floor is None or before > self.day_floor:
                self.day_floor = before
                stamped.append("day_floor")
        schedule = self.rest_schedule
        if not self.rest_day_history:
            schedule = days.RestSchedule(((self.first_day, self.rest_days),))
        elif schedule.changes[-1][1] != self.rest_days:  # a change: find today (one query)
            today = self.today() if self.pk else self.local_day()
            schedule = schedule.changed(today, self.rest_days)
        if schedule.to_json() != self.rest_day_history:
            self.rest_day_history = schedule.to_json()
            stamped.append("rest_day_history")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and stamped:
            kwargs["update_fields"] = {*update_fields, *stamped}
        super().save(*args, **kwargs)
        self._saved_timing = (self.time_zone, self.day_start_hour)

    @property
    def timing(self) -> days.Timing:
        """Their clock: zone and day start (`common.days`)."""
        return days.Timing(self.time_zone, self.day_start_hour)

    def local_day(self, moment: datetime | None = None) -> date:
        """The builder's own date for a moment (now by default): their zone and day start."""
        return self.timing.day_of(moment or timezone.now())

    def local_now(self) -> datetime:
        """Now, as an aware datetime in the builder's zone."""
        return timezone.now().astimezone(self.timing.zone)

    @property
    def rest_days(self) -> frozenset[int]:
        """Today's rest weekdays (0 = Monday); past days keep theirs (`rest_schedule`)."""
        return frozenset(self.rest_weekdays or [])

    @property
    def rest_schedule(self) -> days.RestSchedule:
        """The rest weekdays each day had, as stamped when they changed; a row written
        without a history (bulk-created) has its rest weekdays on every day."""
        return days.RestSchedule.of(self.rest_day_history, self.rest_days)

    @property
    def first_day(self) -> date:
        """The builder-local day they joined on, as stamped then (not moved by a zone change)."""
        if not self.rest_day_history:
            return self.local_day(self.date_joined)
        return date.fromisoformat(self.rest_day_history[0]["from"])

    def today(self, moment: datetime | None = None) -> date:
        """The habit's today (`days.habit_today`): the local day, unless the newest day a
        share of theirs is stamped with, or `day_floor`, is later. One query."""
        latest = self.recipients.aggregate(latest=models.Max("shares__day"))["latest"]
        return days.habit_today(self.local_day(moment), latest, self.day_floor)

    @property
    def mailbox(self) -> bounces.Mailbox:
        """What the mail provider has told us about this address (common.bounces)."""
        return bounces.Mailbox(
            **{field: getattr(self, column) for field, column in MAILBOX_COLUMNS.items()}
        )

    @staticmethod
    def mailbox_columns(box: bounces.Mailbox) -> dict:
        """`box` as the column values that hold it, for an UPDATE."""
        return {column: getattr(box, field) for field, column in MAILBOX_COLUMNS.items()}

    @property
    def email_retry_at(self) -> datetime | None:
        """When a soft-bounce stop lets the next email try the mailbox again, while that is
        still ahead; None without such a stop or once its wait is over."""
        if self.email_undeliverable_reason != bounces.Stop.SOFT_BOUNCED:
            return None
        retry_at = self.email_undeliverable_at + bounces.SOFT_BOUNCE_WAIT
        return retry_at if retry_at > timezone.now() else None

    def may_receive(self, kind: str) -> bool:
        """The one rule for "may this builder get this email" (an EmailKind).

        Never to an inactive account, nor to an address the mail provider stopped
        (`bounces.holds_back`: a hard bounce, a complaint, an unsubscribe at the provider,
        or soft bounces in a row for days, until their wait is over). While only soft
        bounces hold it, what the builder asks for (a confirmation, a password reset, a
        reply) is still tried. An address nobody has confirmed gets only what proves it is
        theirs: the confirmation, and a password reset asked for it (setting a password
        from it confirms the address). Everything else needs a confirmed address. Replies
        to something just done (a publish decision, "you already have an account") ignore
        "pause all email"; the habit's emails need email on and their own switch.
        `BuilderQuerySet.mailable()` is this rule as a filter, for the habit's emails; the
        outbox (common.outbox) applies it to every email addressed to the builder."""
        if not self.is_active:
            return False
        if bounces.holds_back(self.mailbox, timezone.now()) and not (
            self.email_undeliverable_reason == bounces.Stop.SOFT_BOUNCED
            and kind in UNCONFIRMED_OK | REPLIES
        ):
            return False
        if kind in UNCONFIRMED_OK:
            return True
        if self.email_confirmed_at is None:
            return False
        if kind in REPLIES:
            return True
        switch = SWITCH_OF_KIND.get(kind)
        return not self.email_paused and (switch is None or getattr(self, switch))


class EmailKind(models.TextChoices):
    NUDGE = "nudge", "Daily nudge"
    REVIEW = "review", "Weekly review"
    REACTION = "reaction", "Reaction notice"
    FRESH_LINK = "fresh_link", "Fresh link request"
    PUBLISH = "publish", "Publish request"
    CONFIRM = "confirm", "Address confirmation"
    PASSWORD_RESET = "password_reset", "Password reset"
    SIGNUP_ATTEMPT = "signup_attempt", "Sign-up with a used address"


# The emails that prove an address is its owner's: sent before it is confirmed.
UNCONFIRMED_OK = frozenset({EmailKind.CONFIRM, EmailKind.PASSWORD_RESET})
# Replies to something just done: sent with "pause all email" on (to a confirmed address).
REPLIES = frozenset({EmailKind.PUBLISH, EmailKind.SIGNUP_ATTEMPT})
# The builder's switch for each kind of the habit's emails (Builder.may_receive), and what
# each switch stops, as the unsubscribe page names it.
SWITCH_OF_KIND = {
    EmailKind.NUDGE: "nudges_enabled",
    EmailKind.REVIEW: "reviews_enabled",
    EmailKind.REACTION: "notices_enabled",
    EmailKind.FRESH_LINK: "notices_enabled",
}
SWITCH_LABELS = {
    "nudges_enabled": "the daily nudge",
    "reviews_enabled": "the weekly review",
    "notices_enabled": "reaction notices",
}
