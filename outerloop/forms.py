import contextlib
import json

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from common.builders import EMAIL_SETTINGS, WEEKDAYS, Builder
from common.days import MAX_DAY_START_HOUR, time_zones
from common.fields import PeoplesTextFormField
from common.limits import Limit
from outerloop import throttles
from outerloop.models import ApiToken
from reactions.forms import RecipientFields
from sessions.forms import PreviewForm, PreviewURLField
from sessions.hosts import ascii_host
from sessions.models import PublishRequest
from sessions.validators import validate_hostname


class SignupForm(BaseUserCreationForm):
    time_zone = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Builder
        fields = ["name", "email"]
        labels = {"name": "Your first name", "email": "Email"}

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def validate_unique(self) -> None:
        """An address already in use is no error here: saying so would tell anyone who uses
        Outer Loop. The view emails that address's owner instead (auth_views.signup)."""
        try:
            self.instance.validate_unique(exclude=self._get_validation_exclusions() | {"email"})
        except ValidationError as error:
            self._update_errors(error)

    def clean_time_zone(self) -> str:
        # Filled in by the browser; a missing or unknown zone falls back to UTC (editable later).
        value = self.cleaned_data.get("time_zone", "")
        return value if value in time_zones() else "UTC"

    def save(self, commit: bool = True) -> Builder:
        builder = super().save(commit=False)
        builder.time_zone = self.cleaned_data["time_zone"]
        if commit:
            builder.save()
        return builder


class ThrottledLoginMixin:
    """For an AuthenticationForm: refuses before checking the password once an address or a
    client has failed too often (outerloop.throttles), and counts each failure."""

    request: HttpRequest | None
    refused_by: Limit | None = None

    def clean(self) -> dict:
        email = self.cleaned_data.get("username") or ""
        request = self.request
        if request is not None and email:
            self.refused_by = throttles.login_refused(request, email)
            if self.refused_by:
                raise ValidationError(
                    throttles.message(throttles.LOGIN_MESSAGE, self.refused_by), code="throttled"
                )
        try:
            return super().clean()
        except ValidationError as error:
            if request is not None and email and error.code == "invalid_login":
                throttles.note_login_failure(request, email)
            raise


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True}))


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login, throttled like the builders' (outerloop.admin installs it)."""


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, for its address field and `get_users`; the view queues the email."""


class SetPasswordForm(auth_forms.SetPasswordForm):
    """A password chosen from the emailed link: the address is proven the builder's, and
    whoever else had the account loses it (Django ends the other sessions; the API tokens
    are revoked here, since whoever signed up with this address may have made one)."""

    def save(self, commit: bool = True) -> Builder:
        builder = super().save(commit=False)
        now = timezone.now()
        if builder.email_confirmed_at is None:
            builder.email_confirmed_at = now
        if commit:
            builder.save()
            ApiToken.objects.owned_by(builder).filter(revoked_at__isnull=True).update(
                revoked_at=now
            )
        return builder


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(time_zones())]


class SettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices)
    day_start_hour = forms.TypedChoiceField(
        label="My day starts at",
        coerce=int,
        choices=[
            (hour, f"{hour:02d}:00" + (" (midnight)" if hour == 0 else ""))
            for hour in range(MAX_DAY_START_HOUR + 1)
        ],
        help_text="Shares sent before this hour count for the day before.",
    )

    rest_weekdays = forms.TypedMultipleChoiceField(
        label="Rest days",
        coerce=int,
        required=False,
        choices=list(enumerate(WEEKDAYS)),
        widget=forms.CheckboxSelectMultiple,
        help_text="Days of the week that neither add to nor break your streak. No nudge on them.",
    )

    class Meta:
        model = Builder
        fields = ["name", "time_zone", "day_start_hour", "rest_weekdays", *EMAIL_SETTINGS]
        labels = {
            "name": "Your first name (recipients see it)",
            "nudges_enabled": "Nudge me on days I haven't sent anything",
            "nudge_time": "Nudge time",
            "reviews_enabled": "Send me a weekly review",
            "review_weekday": "Review day",
            "review_time": "Review time",
            "notices_enabled": "Email me when someone reacts or asks for a fresh link",
            "email_paused": "Pause all email",
        }
        widgets = {
            "nudge_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "review_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean_rest_weekdays(self) -> list[int]:
        days = sorted(set(self.cleaned_data["rest_weekdays"]))
        if len(days) == 7:
            raise forms.ValidationError("Keep at least one day that counts.")
        return days


class FolderInput(forms.FileInput):
    """A folder picked whole (`webkitdirectory`): its files, all at once."""

    allow_multiple_selected = True


class FolderField(forms.FileField):
    """The files of a folder picked in the browser: a list of uploaded files, maybe empty."""

    widget = FolderInput(attrs={"webkitdirectory": True, "multiple": True})

    def clean(self, data, initial=None) -> list:
        files = [file for file in (data or []) if file]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files


class TurnForm(RecipientFields):
    """Today's turn in one form: the preview URL (prefilled with the latest), or an uploaded
    build (a .zip, or a folder's files with their paths in `build_paths`, a JSON list in the
    files' order: Django keeps only the last part of an uploaded file's name), a title, and
    a person, whom an upload may leave out (a preview for the builder alone).

    Cleaned, an upload is `cleaned_data["upload"]`: ("zip", file), ("folder", files, paths
    or None), or None for a URL turn; `cleaned_data["build_name"]` what it is called."""

    url = PreviewURLField(label="Preview URL")
    build = forms.FileField(
        label="A .zip of your build",
        required=False,
        widget=forms.FileInput(attrs={"accept": ".zip,application/zip"}),
    )
    build_folder = FolderField(label="Or its folder", required=False)
    build_paths = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    title = PeoplesTextFormField(
        label="What is it? (optional)",
        max_length=120,
        required=False,
        help_text="Left empty, a URL you've sent before goes to its session. A title you've "
        "used goes to that session; a new title starts a new one.",
        widget=forms.TextInput(attrs={"placeholder": "Habit tracker, first screen"}),
    )
    frameable = PreviewForm.base_fields["frameable"]
    field_order = ["url", "title", "recipient", "lives_with", "channel", "frameable"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.files.get("build") or self.files.get("build_folder"):
            # An upload takes the URL's place (the prefilled one is ignored), and may be
            # for nobody yet.
            self.fields["url"] = forms.CharField(required=False)
            self.fields["recipient"].required = False

    def clean_recipient(self) -> str:
        if not self.cleaned_data["recipient"].strip():
            self.cleaned_data["recipient_note"] = ""
            return ""
        return super().clean_recipient()

    def clean(self) -> dict:
        cleaned = super().clean()
        archive, folder = cleaned.get("build"), cleaned.get("build_folder") or []
        cleaned["upload"] = None
        if archive and folder:
            raise forms.ValidationError("Upload a .zip or a folder, not both.", code="two_builds")
        if archive:
            cleaned["upload"] = ("zip", archive)
            cleaned["build_name"] = archive.name or ""
        elif folder:
            paths = self._paths(cleaned.get("build_paths") or "", len(folder))
            cleaned["upload"] = ("folder", folder, paths)
            names = paths or [file.name for file in folder]
            cleaned["build_name"] = names[0].split("/")[0] if names else ""
        return cleaned

    def _paths(self, value: str, count: int) -> list[str] | None:
        """The folder's relative paths (`webkitRelativePath`), one per file; None if the
        page sent none (each file's own name is used)."""
        if not value:
            return None
        try:
            paths = json.loads(value)
        except ValueError:
            paths = None
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            raise forms.ValidationError("The folder's file paths didn't arrive whole. Try again.")
        if len(paths) != count:
            raise forms.ValidationError(
                f"The upload names {len(paths)} paths for {count} files. Try again."
            )
        return paths


class DeleteAccountForm(forms.Form):
    """The password again before everything goes; wrong guesses count against the same
    throttle as logging in (a stolen session must not make it a password oracle)."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:
        self.request = request
        self.builder = request.user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        refused = throttles.login_refused(self.request, self.builder.email)
        if refused:
            raise forms.ValidationError(
                throttles.message(throttles.LOGIN_MESSAGE, refused), code="throttled"
            )
        if not self.builder.check_password(password):
            throttles.note_login_failure(self.request, self.builder.email)
            raise forms.ValidationError(
                "That isn't your password. Nothing was deleted.", code="wrong_password"
            )
        return password


class PublishForm(forms.ModelForm):
    class Meta:
        model = PublishRequest
        fields = ["domain", "note"]
        labels = {"domain": "Your domain", "note": "Anything the person wiring it should know"}
        widgets = {
            "domain": forms.TextInput(
                attrs={"placeholder": "crags.example.com", "inputmode": "url"}
            ),
            "note": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_domain(self) -> str:
        """Forgive a pasted https:// or a trailing slash; store the ASCII (punycode) form,
        by UTS #46 as browsers resolve it (`sessions.hosts.ascii_host`)."""
        value = self.cleaned_data["domain"].strip().lower()
        value = value.removeprefix("https://").removeprefix("http://").rstrip("/").rstrip(".")
        with contextlib.suppress(ValueError):  # the validator explains what a domain is
            value = ascii_host(value)
        validate_hostname(value)
        return value
