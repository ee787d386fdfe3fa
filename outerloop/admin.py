from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from outerloop.models import Builder


@admin.register(Builder)
class BuilderAdmin(UserAdmin):
    ordering = ["-date_joined"]
    list_display = ["email", "name", "time_zone", "date_joined", "is_staff"]
    search_fields = ["email", "name"]
    list_filter = ["is_staff", "is_active"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Habit", {"fields": ["time_zone", "day_start_hour"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]
