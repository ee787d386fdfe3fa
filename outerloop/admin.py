from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from common.builders import EMAIL_SETTINGS, EMAIL_STATE, Builder
from common.mail import EmailClaim
from outerloop.forms import AdminLoginForm
from outerloop.publish import decide
from reactions.models import Reaction, Share
from reactions.stats import count_of
from sessions.models import BuildSession, PublishRequest, PublishStatus

# The admin's login is throttled like the builders' (outerloop.throttles).
admin.site.login_form = AdminLoginForm


@admin.register(Builder)
class BuilderAdmin(UserAdmin):
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "name",
        "time_zone",
        "sessions_count",
        "shares_count",
        "reactions_count",
        "email_state",
        "date_joined",
    ]
    search_fields = ["email", "name"]
    list_filter = [
        "is_staff",
        "is_active",
        "email_paused",
        "email_undeliverable_reason",
        "date_joined",
    ]
    readonly_fields = [
        "sessions_count",
        "shares_count",
        "reactions_count",
        "last_login",
        "date_joined",
    ]

    def get_queryset(self, request):
        """Counts as subqueries: one query for the whole list page, however big each builder."""
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sessions=count_of(BuildSession.objects.all(), "builder"),
                n_shares=count_of(Share.objects.all(), "recipient__builder"),
                n_reactions=count_of(Reaction.objects.all(), "share__recipient__builder"),
            )
        )

    @admin.display(description="sessions", ordering="n_sessions")
    def sessions_count(self, builder: Builder) -> int:
        return builder.n_sessions

    @admin.display(description="links sent", ordering="n_shares")
    def shares_count(self, builder: Builder) -> int:
        return builder.n_shares

    @admin.display(description="reactions", ordering="n_reactions")
    def reactions_count(self, builder: Builder) -> int:
        return builder.n_reactions

    @admin.display(description="email")
    def email_state(self, builder: Builder) -> str:
        if builder.email_undeliverable_at:
            return f"undeliverable ({builder.email_undeliverable_reason})"
        if builder.email_confirmed_at is None:
            return "not confirmed"
        return "paused" if builder.email_paused else "ok"

    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Habit", {"fields": ["time_zone", "day_start_hour", "rest_weekdays"]}),
        (
            "Email",
            {"fields": [*EMAIL_SETTINGS, *EMAIL_STATE]},
        ),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Activity", {"fields": ["sessions_count", "shares_count", "reactions_count"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})
    ]


@admin.register(EmailClaim)
class EmailClaimAdmin(admin.ModelAdmin):
    list_display = ["builder", "kind", "period", "status", "attempts", "created_at", "sent_at"]
    list_select_related = ["builder"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["builder__email", "period", "last_error"]
    readonly_fields = [
        "builder",
        "kind",
        "period",
        "created_at",
        "sent_at",
        "attempts",
        "lease_until",
    ]
    date_hierarchy = "created_at"


# The operator's answer to a publish request: deciding it emails the builder
# (outerloop.publish), so its admin lives here, above the sessions app.
class PublishDecisionForm(forms.ModelForm):
    final_url = forms.URLField(
        required=False, assume_scheme="https", help_text="Where it lives now (when wired)."
    )

    class Meta:
        model = PublishRequest
        fields = ["status", "final_url", "operator_message"]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("status") == PublishStatus.WIRED and not data.get("final_url"):
            self.add_error("final_url", "Give the URL where it now lives: the builder gets it.")
        if data.get("status") == PublishStatus.DECLINED and not data.get("operator_message"):
            self.add_error("operator_message", "Tell the builder why, in a sentence or two.")
        return data


@admin.register(PublishRequest)
class PublishRequestAdmin(admin.ModelAdmin):
    """The operator's queue: wire the DNS by hand, then mark it wired or decline. Either one
    emails the builder."""

    form = PublishDecisionForm
    list_display = ["domain", "builder_email", "session_title", "status", "created_at"]
    list_select_related = ["preview__session__builder"]
    list_filter = ["status", "created_at"]
    search_fields = ["domain", "preview__session__builder__email", "preview__session__title"]
    date_hierarchy = "created_at"
    readonly_fields = ["preview_link", "domain", "note", "created_at", "decided_at"]
    fields = [
        "preview_link",
        "domain",
        "note",
        "created_at",
        "status",
        "final_url",
        "operator_message",
        "decided_at",
    ]

    @admin.display(description="builder", ordering="preview__session__builder__email")
    def builder_email(self, obj: PublishRequest) -> str:
        return obj.preview.session.builder.email

    @admin.display(description="session", ordering="preview__session__title")
    def session_title(self, obj: PublishRequest) -> str:
        return obj.preview.session.title

    @admin.display(description="preview")
    def preview_link(self, obj: PublishRequest) -> str:
        return obj.preview.url

    def has_add_permission(self, request) -> bool:
        return False  # requests come from builders

    def save_model(self, request, obj: PublishRequest, form, change: bool) -> None:
        if "status" in form.changed_data and obj.status != PublishStatus.REQUESTED:
            decide(obj, obj.status, final_url=obj.final_url, message=obj.operator_message)
        else:
            super().save_model(request, obj, form, change)
