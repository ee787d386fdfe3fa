from django import forms

from reactions.models import (
    REACTION_MAX_LENGTH,
    Channel,
    Chip,
    clean_reaction_text,
    idempotency_key_or_blank,
)


class RecipientFields(forms.Form):
    """Who this goes to: a person of the builder's, by name, new or existing."""

    recipient = forms.CharField(
        label="Send it to",
        max_length=80,
        error_messages={"required": "Name one person, e.g. “Sam — climbing gym”."},
        widget=forms.TextInput(
            attrs={
                "placeholder": "Sam — climbing gym",
                "list": "recipient-names",
                "autocomplete": "off",
            }
        ),
    )
    lives_with = forms.BooleanField(
        label="I live with this person",
        required=False,
        help_text="Their reactions are welcome but don't count toward your streak.",
    )
    channel = forms.ChoiceField(
        label="How you'll send it", choices=Channel.choices, initial=Channel.DM
    )

    def clean_recipient(self) -> str:
        name = " ".join(self.cleaned_data["recipient"].split())
        if not name:
            raise forms.ValidationError("Name one person, e.g. “Sam — climbing gym”.")
        return name


class ReactionTextField(forms.CharField):
    def to_python(self, value):
        # Strip control characters (NUL too) before any validator sees them: stripped, not refused.
        return clean_reaction_text(super().to_python(value))


class ReactionForm(forms.Form):
    """Validation only: templates/reactions/recipient.html writes the fields out by hand (the
    page renders in half the time), with the textarea's maxlength at the real limit."""

    text = ReactionTextField(
        label="What do you think? In your own words.",
        max_length=REACTION_MAX_LENGTH + 10_000,  # refuse absurd input; the clean says it nicer
        strip=False,
        error_messages={"required": "Write a few words first: what did you notice?"},
    )
    # A honeypot: hidden from people (and screen readers), irresistible to form-filling robots.
    website = forms.CharField(required=False)
    chip = forms.ChoiceField(choices=Chip.choices, required=False)
    # Written into the page by the view (models.new_idempotency_key); anything else is ignored.
    idempotency_key = forms.CharField(required=False, max_length=200)

    def clean_idempotency_key(self) -> str:
        return idempotency_key_or_blank(self.cleaned_data["idempotency_key"])

    def clean_text(self) -> str:
        text = clean_reaction_text(self.cleaned_data["text"])
        if not text:
            raise forms.ValidationError("Write a few words first: what did you notice?")
        if len(text) > REACTION_MAX_LENGTH:
            raise forms.ValidationError(
                f"That's {len(text):,} characters; please keep it under {REACTION_MAX_LENGTH:,}."
            )
        return text
