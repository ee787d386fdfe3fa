"""The inner loop's output: what was built, and the live URL of it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from common.fields import PeoplesCharField, PeoplesTextField
from sessions.hosted import hosted_url, new_host_label
from sessions.validators import MAX_URL_LENGTH, validate_preview_url


class BuildSessionQuerySet(models.QuerySet):
    def owned_by(self, builder) -> "BuildSessionQuerySet":
        return self.filter(builder=builder)

    def titled(self, title: str) -> "BuildSessionQuerySet":
        """Sessions of that title in any letter case (Lower() on both sides, as the database
        folds case), newest first."""
        return (
            self.alias(lower_title=Lower("title"))
            .filter(lower_title=Lower(models.Value(title)))
            .order_by("-created_at", "-id")
        )


class BuildSession(models.Model):
    builder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="build_sessions"
    )
    title = PeoplesCharField(max_length=120)
    notes = PeoplesTextField(
        blank=True, max_length=10_000, help_text="What you asked for, or what changed."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = BuildSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["builder", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    def add_preview(
        self, url: str, *, frameable: bool = False, ttl_seconds: int | None = None
    ) -> "Preview":
        return Preview.objects.create(
            session=self, url=url, frameable=frameable, expires_at=preview_expiry(ttl_seconds)
        )

    @transaction.atomic(savepoint=False)
    def merge_into(self, target: "BuildSession") -> None:
        """Make this session part of `target`, the same builder's other session: its previews
        move there with their links (each keeps its stamped day, so no streak changes), its
        notes are added after `target`'s, and this session is deleted. `target` keeps its
        title and when it was logged. Raises ValueError for another builder's session or
        the same one. Writes through querysets and leaves both objects in memory as they were.
        """
        if target.builder_id != self.builder_id or target.pk == self.pk:
            raise ValueError("A session merges into another session of the same builder.")
        Preview.objects.filter(session=self.pk).update(session=target.pk)
        if self.notes:
            notes = "\n\n".join(part for part in (target.notes, self.notes) if part)
            BuildSession.objects.filter(pk=target.pk).update(notes=notes)
        BuildSession.objects.filter(pk=self.pk).delete()


def expired_by(moment: datetime, *, via: str = "") -> Q:
    """The expiry rule (DESIGN.md "Expiry") as a condition: a preview has expired at `moment`
    once its `expires_at` is not after it. `via` is the path from the rows filtered to their
    preview ("preview__" for shares). `Preview.is_expired` is the same rule on one preview in
    memory; both are checked on every request, never left to the expiry task."""
    return Q(**{f"{via}expires_at__lte": moment})


class PreviewQuerySet(models.QuerySet):
    def owned_by(self, builder) -> "PreviewQuerySet":
        return self.filter(session__builder=builder)

    def latest_of(self, builder) -> "Preview | None":
        return self.owned_by(builder).select_related("session").first()

    def expired(self, moment: datetime | None = None) -> "PreviewQuerySet":
        """The previews expired at `moment` (now by default): `expired_by`."""
        return self.filter(expired_by(moment or timezone.now()))

    def live(self, moment: datetime | None = None) -> "PreviewQuerySet":
        """The previews still live at `moment` (now by default): not `expired_by`."""
        return self.exclude(expired_by(moment or timezone.now()))


class HostedBuild(models.Model):
    """A build folder a builder uploaded, its files kept in the "previews" storage under
    `key`/, and served by each of its previews at that preview's own origin
    (sessions/hosted.py). Renewing a preview reuses the build: same files, new origin.

    `manifest` maps each file's path (POSIX, relative to the build's root, as served) to
    what serving needs without asking the storage: {"size": bytes, "etag": str,
    "type": Content-Type, "encodings": ["br", "gzip"] precompressed beside it}. `size` and
    `files` are the sums (bytes uncompressed; count). `deleted_at` is set once the files are
    gone from storage (the sweep, after OUTERLOOP_HOSTED_KEEP)."""

    builder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_builds"
    )
    key = models.CharField(max_length=40, unique=True, default=new_host_label, editable=False)
    files = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    manifest = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.key} ({self.files} files)"


class BuildGone(Exception):
    """A hosted preview can't be renewed: its build's files were deleted (the sweep, after
    OUTERLOOP_HOSTED_KEEP). `str()` says so in the builder's words."""

    def __init__(self) -> None:
        days = settings.OUTERLOOP_HOSTED_KEEP // 86400
        kept = f"{days} days" if days != 1 else "a day"
        super().__init__(
            f"This build's files were deleted {kept} after its last preview ended, so it "
            "can't be renewed. Upload the build again to send a fresh link."
        )


def preview_expiry(ttl_seconds: int | None = None) -> "timezone.datetime":
    return timezone.now() + timedelta(seconds=ttl_seconds or settings.OUTERLOOP_PREVIEW_TTL)


class Preview(models.Model):
    session = models.ForeignKey(BuildSession, on_delete=models.CASCADE, related_name="previews")
    url = models.URLField(max_length=MAX_URL_LENGTH, validators=[validate_preview_url])
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=preview_expiry)
    frameable = models.BooleanField(
        "may be shown in a frame",
        default=False,
        help_text="The recipient sees it full-screen with a slim bar to react. Only if your "
        "preview allows framing (no X-Frame-Options: DENY).",
    )
    # Set by the expiry task or sweep; the request path checks `expires_at` by itself.
    expired_at = models.DateTimeField(null=True, blank=True)
    # The pulse of its hour, recorded at expiry: what recipients did while it was live.
    pulse_opens = models.PositiveIntegerField(null=True, blank=True)
    pulse_taps = models.PositiveIntegerField(null=True, blank=True)
    pulse_reactions = models.PositiveIntegerField(null=True, blank=True)
    # A hosted preview: the uploaded build it serves, at `hosted.hosted_url(host)`.
    build = models.ForeignKey(
        HostedBuild, on_delete=models.CASCADE, null=True, blank=True, related_name="previews"
    )
    host = models.CharField(max_length=40, unique=True, null=True, blank=True, editable=False)
    # A hosted preview's HTML carries the reaction button and in-app activity script
    # (sessions/widget.py) unless the builder turned it off (`--no-widget`).
    widget = models.BooleanField(
        "reaction button inside the preview",
        default=True,
        db_default=True,  # rows written by older code (a deploy's overlap) get it too
        help_text="A hosted preview shows a small “Tell me what you think” button and counts "
        "taps inside it.",
    )

    objects = PreviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(expired_at__isnull=True),
                name="preview_awaiting_expiry",
            )
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def is_expired(self) -> bool:
        """Whether the preview has stopped loading its target, now: `expired_by` on this
        preview, compared with the clock on every request (the expiry task only records it)."""
        return self.expires_at <= timezone.now()

    def fresh(self) -> "Preview":
        """This preview while it lives; otherwise a renewed one, so a new link always opens."""
        return self.renew() if self.is_expired else self

    @property
    def is_hosted(self) -> bool:
        """Whether Outer Loop serves this preview's files itself (an uploaded build)."""
        return self.build_id is not None

    @classmethod
    def hosting(cls, session: BuildSession, build: HostedBuild, **fields) -> "Preview":
        """A new hosted preview of `build` in `session`, at an origin of its own (a fresh
        random label; its `url` is that origin)."""
        label = new_host_label()
        return cls.objects.create(
            session=session, build=build, host=label, url=hosted_url(label), **fields
        )

    def renew(self) -> "Preview":
        """A fresh preview of the same URL, or for a hosted one of the same build at a new
        origin; the old one and its links stay expired. Raises BuildGone for a hosted one
        whose files the sweep deleted."""
        if self.is_hosted and self.build.deleted_at is not None:
            raise BuildGone
        if self.is_hosted:
            return Preview.hosting(
                self.session, self.build, frameable=self.frameable, widget=self.widget
            )
        return Preview.objects.create(session=self.session, url=self.url, frameable=self.frameable)


class PublishStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    WIRED = "wired", "Wired"
    DECLINED = "declined", "Declined"


class PublishRequestQuerySet(models.QuerySet):
    def owned_by(self, builder) -> "PublishRequestQuerySet":
        return self.filter(preview__session__builder=builder)


class PublishRequest(models.Model):
    """ "Keep it on my domain": a person (the operator) wires the DNS and answers."""

    preview = models.ForeignKey(Preview, on_delete=models.CASCADE, related_name="publish_requests")
    domain = models.CharField(max_length=253, help_text="e.g. crags.example.com")
    note = PeoplesTextField(blank=True, max_length=2000)
    status = models.CharField(
        max_length=10, choices=PublishStatus.choices, default=PublishStatus.REQUESTED
    )
    final_url = models.URLField(
        blank=True, max_length=MAX_URL_LENGTH, help_text="Where it lives now (when wired)."
    )
    operator_message = PeoplesTextField(
        blank=True, max_length=2000, help_text="Sent to the builder with your decision."
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = PublishRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.domain} ({self.get_status_display()})"
