from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from outerloop.forms import AdminLoginForm
from outerloop.models import EMAIL_SETTINGS, EMAIL_STATE, Builder, EmailClaim
from reactions.models import Reaction, Share
from reactions.stats import count_of
from sessions.models import BuildSession

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
