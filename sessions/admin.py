from django.contrib import admin
from django.db import models

from common.admin_fixed import OwnerFixedAdmin
from sessions.models import BuildSession, Preview


class PreviewInline(admin.TabularInline):
    model = Preview
    extra = 0
    fields = ["url", "created_at", "expires_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(BuildSession)
class BuildSessionAdmin(OwnerFixedAdmin):
    fixed_on_change = ("builder",)
    list_display = ["title", "builder", "created_at"]
    list_select_related = ["builder"]
    search_fields = ["title", "builder__email"]
    date_hierarchy = "created_at"
    raw_id_fields = ["builder"]
    inlines = [PreviewInline]
