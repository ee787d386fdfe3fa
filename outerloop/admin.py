from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from outerloop.models import Builder, EmailClaim


@admin.register(Builder)
class BuilderAdmin(UserAdmin):
    ordering = ["-date_joined"]
    list_display = ["email", "name", "time_zone", "date_joined", "is_staff"]
    search_fields = ["email", "name"]
    list_filter = ["is_staff", "is_active", "email_paused", "email_undeliverable_reason"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Habit", {"fields": ["time_zone", "day_start_hour", "rest_weekdays"]}),
        (
            "Email",
            {
                "fields": [
                    "nudges_enabled",
                    "nudge_time",
                    "reviews_enabled",
                    "review_weekday",
                    "review_time",
                    "notices_enabled",
                    "email_paused",
                    "email_undeliverable_at",
                    "email_undeliverable_reason",
                ]
            },
        ),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
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
