from django.contrib import admin

from common.admin_fixed import OwnerFixedAdmin
from reactions.models import Reaction, Recipient, Share, Visit


@admin.register(Recipient)
class RecipientAdmin(OwnerFixedAdmin):
    fixed_on_change = ("builder",)
    list_display = ["name", "builder", "lives_with", "created_at"]
    list_select_related = ["builder"]
    search_fields = ["name", "builder__email"]
    list_filter = ["lives_with"]
    raw_id_fields = ["builder"]


@admin.register(Share)
class ShareAdmin(OwnerFixedAdmin):
    fixed_on_change = ("preview", "recipient")
    list_display = ["__str__", "channel", "day", "sent_at"]
    list_select_related = ["recipient", "preview__session"]
    search_fields = ["recipient__name", "recipient__builder__email", "preview__session__title"]
    list_filter = ["channel", "day"]
    raw_id_fields = ["preview", "recipient"]
    readonly_fields = ["token", "replaced_by"]


@admin.register(Reaction)
class ReactionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "share", "counts", "by_builder", "created_at"]
    list_select_related = ["share__recipient", "share__preview__session"]
    list_filter = ["counts", "by_builder", "device_class"]
    search_fields = ["text", "builder__email"]
    readonly_fields = ["share"]  # a reaction answers the share it was left on, for good

    def has_add_permission(self, request) -> bool:
        return False  # reactions come from the people a link was sent to


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["share", "kind", "device_class", "by_builder", "via_qr", "at"]
    list_select_related = ["share__recipient", "share__preview__session"]
    list_filter = ["kind", "device_class", "by_builder", "via_qr"]
    raw_id_fields = ["share"]
