from django import forms
from django.contrib import admin
from django.db import models

from common.admin_fixed import OwnerFixedAdmin
from sessions.models import BuildSession, Preview, PublishRequest, PublishStatus


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
        from outerloop.publish import decide

        if "status" in form.changed_data and obj.status != PublishStatus.REQUESTED:
            decide(obj, obj.status, final_url=obj.final_url, message=obj.operator_message)
        else:
            super().save_model(request, obj, form, change)
