"""Admin pages on which an object's owner, once saved, is shown but never changed.

Reactions carry their builder, and a share's people and previews must belong to one builder:
moving a row to another owner in the admin would show it to the wrong builder.
"""

from django.contrib import admin


class OwnerFixedAdmin(admin.ModelAdmin):
    fixed_on_change: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [name for name in self.fixed_on_change if name not in fields]
        return fields
