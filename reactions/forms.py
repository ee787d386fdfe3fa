from django import forms

from common.fields import PeoplesTextFormField
from reactions.models import (
    REACTION_MAX_LENGTH,
    RECIPIENT_NAME_MAX_LENGTH,
    Channel,
    Chip,
    Recipient,
    idempotency_key_or_blank,
    name_and_note,
    split_name_and_note,
    words_after_chip,
)

NAME_ONE_PERSON = "Name one person, e.g. “Sam — climbing gym”."


class RecipientFields(forms.Form):
    """Who this goes to: a person of the builder's, by name, new or existing. "Sam — climbing
    gym" is the name "Sam" with the note "climbing gym" (`split_name_and_note`): the cleaned
    data holds the name in `recipient` and the note in `recipient_note`."""

    recipient = PeoplesTextFormField(
        label="Send it to",
        help_text="A name, and if you like a dash and a note for yourself.",
        max_length=RECIPIENT_NAME_MAX_LENGTH * 2,
        error_messages={"required": NAME_ONE_PERSON},
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
        try:
            name, note = name_and_note(self.cleaned_data["recipient"])
        except ValueError as problem:
            raise forms.ValidationError(str(problem)) from None
        self.cleaned_data["recipient_note"] = note
        return name


class ReactionForm(forms.Form):
    """Validation only: templates/reactions/recipient.html writes the fields out by hand (the
    page renders in half the time), with the textarea's maxlength at the real limit."""

    # Cleaned (NUL and the rest stripped, not refused) before any validator sees it.
    text = PeoplesTextFormField(
        multiline=True,
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

    def clean(self) -> dict:
        """A chip starts a sentence; it never is one. Chosen with no words of the person's own
        after it (the page's script writes "Love it — " into the box), the form says so."""
        cleaned = super().clean()
        chip = cleaned.get("chip")
        if chip:
            label = Chip(chip).label
            text = words_after_chip(label, cleaned.get("text", "").strip())
            words = text.strip(" \n\u2014\u2013-:,.!")
            if not words:
                self.errors.pop("text", None)
                cleaned.pop("text", None)
                self.add_error("text", f"“{label}”, and why? Add a few words of your own.")
        return cleaned

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text:
            raise forms.ValidationError("Write a few words first: what did you notice?")
        if len(text) > REACTION_MAX_LENGTH:
            raise forms.ValidationError(
                f"That's {len(text):,} characters; please keep it under {REACTION_MAX_LENGTH:,}."
            )
        return text


class RenamePersonForm(forms.ModelForm):
    """A person's name and note. A name another of the builder's people already has (in any
    letter case) is refused, and `same_name` holds that person, to offer merging instead."""

    same_name: Recipient | None = None

    class Meta:
        model = Recipient
        fields = ["name", "note"]
        labels = {"name": "Name", "note": "Note (only you see it)"}
        help_texts = {"name": "Just the name; who they are to you goes in the note."}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if split_name_and_note(name)[1]:
            raise forms.ValidationError(
                "Put only the name here, and who they are to you in the note: a dash "
                "between words reads as “name — note” when you send them a link."
            )
        self.same_name = (
            Recipient.objects.owned_by(self.instance.builder_id)
            .named(name)
            .exclude(pk=self.instance.pk)
            .first()
        )
        if self.same_name is not None:
            raise forms.ValidationError(
                f"You already have {self.same_name.name}. If they are the same person, "
                "merge them instead."
            )
        return name
