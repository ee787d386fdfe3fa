from urllib.parse import urlsplit

from django import forms

from sessions.models import BuildSession
from sessions.validators import (
    PREVIEW_URL_HELP,
    normalize_url,
    validate_preview_url,
)


class PreviewURLField(forms.CharField):
    """A preview URL as a builder types it: tidied (`normalize_url`), checked by the preview
    URL policy (`sessions.validators`), which the help text explains where it is typed."""

    default_error_messages = {"required": "Paste the preview's URL."}

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [validate_preview_url])
        kwargs.setdefault("help_text", PREVIEW_URL_HELP)
        kwargs.setdefault(
            "widget",
            forms.URLInput(attrs={"placeholder": "https://my-app.example.dev", "inputmode": "url"}),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalize_url(super().to_python(value))


def title_from_url(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname or url)[:120]


class BuildSessionForm(forms.ModelForm):
    class Meta:
        model = BuildSession
        fields = ["title", "notes"]
        widgets = {
            "title": forms.TextInput(attrs={"placeholder": "Habit tracker, first screen"}),
            "notes": forms.Textarea(
                attrs={"rows": 3, "placeholder": "The prompt, or what changed"}
            ),
        }


class RenameSessionForm(forms.ModelForm):
    class Meta:
        model = BuildSession
        fields = ["title"]
        labels = {"title": "New name"}


class PreviewForm(forms.Form):
    url = PreviewURLField(label="Preview URL")
    frameable = forms.BooleanField(
        label="Show it full-screen in the recipient's page",
        required=False,
        help_text="Only if your preview allows framing; otherwise they get an Open button.",
    )
