"""Fields for what people type. Each passes its value through `common.text.clean_text`:
the form field before any validator sees it, the model fields on every save (so the API,
the CLI, the admin and the code's own `create()` calls store the same text a form would)."""

from typing import Any

from django import forms
from django.db import models

from common.text import clean_text


class PeoplesTextFormField(forms.CharField):
    """A form's free-text field: `clean_text(value, multiline=...)`, then the usual checks
    (required, max_length) on the cleaned value, so a name of nothing but control characters
    is "required", not stored empty."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict:
        # The browser sets the box's direction from what is typed in it: Arabic right to left.
        return {**super().widget_attrs(widget), "dir": "auto"}

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return clean_text(value, multiline=self.multiline) if isinstance(value, str) else value


class _Cleaned:
    """For a model's CharField or TextField: clean on save, and offer `PeoplesTextFormField`."""

    multiline = False

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if isinstance(value, str):
            value = clean_text(value, multiline=self.multiline)
            setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs: Any) -> forms.Field:
        return super().formfield(
            **{"form_class": PeoplesTextFormField, "multiline": self.multiline, **kwargs}
        )

    def deconstruct(self) -> tuple:
        # The column is a plain one: migrations record the Django field, so making a field
        # "people's text" needs no migration and historical models don't import this module.
        name, _path, args, kwargs = super().deconstruct()
        return name, f"django.db.models.{self._base.__name__}", args, kwargs


class PeoplesCharField(_Cleaned, models.CharField):
    """One line a person typed (a name, a title): whitespace runs become one space."""

    _base = models.CharField


class PeoplesTextField(_Cleaned, models.TextField):
    """Paragraphs a person typed (notes, a reaction): line breaks and tabs are kept."""

    multiline = True
    _base = models.TextField
