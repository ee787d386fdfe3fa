from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from django import forms, template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from outerloop.env import is_loopback_origin

register = template.Library()


@lru_cache(maxsize=8)
def _read_static(path: str) -> str:
    found = finders.find(path)
    if not found:
        raise template.TemplateSyntaxError(f"No static file {path!r} to inline")
    return Path(found).read_text(encoding="utf-8")


@register.simple_tag
def inline_static(path: str) -> SafeString:
    """A static file's text, for critical CSS in the first response (our own file, not input)."""
    return mark_safe(_read_static(path))  # noqa: S308 - a file from our own static tree


@register.filter
def time_on(moment: datetime, day: date) -> str:
    """`moment` as the builder reads it on the page of the stamped `day`: "09:12" in the
    active zone (the builder's, set by the middleware), or "Mon 30 Nov 01:12" when that
    falls on another date (the day was stamped before a zone or day-start change, or the
    moment is before the day start)."""
    local = timezone.localtime(moment)
    return dateformat.format(local, "H:i" if local.date() == day else "D j M H:i")


@register.filter
def person(recipient) -> SafeString:
    """A recipient as the builder sees them: the name, then the note ("Sam · climbing gym"),
    each in its own `<bdi>` so a right-to-left name or note never reorders the text around
    it (HTML's bidi isolation; Unicode UAX #9). Builders' pages only: the note is private."""
    if not recipient.note:
        return format_html("<bdi>{}</bdi>", recipient.name)
    return format_html(
        '<bdi>{}</bdi><span class="person-note"> · <bdi>{}</bdi></span>',
        recipient.name,
        recipient.note,
    )


@register.simple_tag
def loopback_base_url() -> str:
    """OUTERLOOP_BASE_URL when it is a loopback address (outerloop.env.is_loopback_origin), so
    no recipient's phone can open its links; "" otherwise: `{% loopback_base_url as url %}`."""
    base_url = settings.OUTERLOOP_BASE_URL
    return base_url if is_loopback_origin(base_url) else ""


class _DayNames:
    """`date:"D"` and `date:"M"` for many days: the names translated once, not once a day
    (the `date` filter's cost in a calendar's loop, `make profile`)."""

    def __init__(self) -> None:
        self.weekdays = {number: str(name) for number, name in WEEKDAYS_ABBR.items()}
        self.months = {number: str(name).title() for number, name in MONTHS_3.items()}

    def short(self, day: date) -> str:
        """ "Mon 3 Nov" (`date:"D j M"`)."""
        return f"{self.weekdays[day.weekday()]} {day.day} {self.months[day.month]}"

    def long(self, day: date) -> str:
        """ "Mon 3 Nov 2026" (`date:"D j M Y"`)."""
        return f"{self.short(day)} {day.year}"

    def plain(self, day: date) -> str:
        """ "3 Nov 2026" (`date:"j M Y"`)."""
        return f"{day.day} {self.months[day.month]} {day.year}"


def _weeks(weeks: list, cells: Callable[[list], SafeString]) -> SafeString:
    return format_html_join("\n", '<div class="week">{}</div>', ((cells(week),) for week in weeks))


@register.simple_tag
def calendar_grid(weeks: list) -> SafeString:
    """The dashboard's calendar (`outerloop.habit.calendar_weeks`): a `<div class="week">`
    a week, its days as `<span class="day …" title="Mon 3 Nov: closed">`. Built here rather
    than by loops in the template, which cost ten times as much (`make profile`)."""
    names = _DayNames()

    def cells(week: list) -> SafeString:
        return format_html_join(
            "",
            '<span class="day {}{}" title="{}: {}"></span>',
            (
                (
                    cell.status,
                    " is-today" if cell.is_today else "",
                    names.short(cell.day),
                    "today" if cell.is_today else cell.status,
                )
                for cell in week
            ),
        )

    return _weeks(weeks, cells)


@register.simple_tag
def heatmap_grid(weeks: list) -> SafeString:
    """The habit page's 52 weeks (`Habit.heatmap`): each day past or present a link to its
    panel (`outerloop:day`, loaded by htmx into #day-panel), titled "Mon 3 Nov 2026: closed,
    2 turns"; a day to come an empty `<span>`. Built here for the same reason as
    `calendar_grid`, with the day's URL reversed once a grid, not twice a day."""
    names = _DayNames()
    stand_in = "0000-00-00"
    day_url = reverse("outerloop:day", args=[stand_in])

    def cell_html(cell) -> SafeString:
        if cell.status == "future":
            return mark_safe('<span class="day future"></span>')
        url = day_url.replace(stand_in, cell.day.isoformat())
        turns = f", {cell.turns} turn{'s' if cell.turns != 1 else ''}" if cell.turns else ""
        return format_html(
            '<a class="day {}{}" href="{}" hx-get="{}" hx-target="#day-panel" '
            'hx-swap="outerHTML" title="{}: {}{}"><span class="visually-hidden">{}, {}</span></a>',
            cell.status,
            " is-today" if cell.is_today else "",
            url,
            url,
            names.long(cell.day),
            "today" if cell.is_today else cell.status,
            turns,
            names.plain(cell.day),
            cell.status,
        )

    return _weeks(weeks, lambda week: mark_safe("".join(cell_html(cell) for cell in week)))  # noqa: S308


JUST_NOW = timedelta(minutes=1)


@register.filter
def ago(moment: datetime) -> str:
    """How long ago `moment` was, for a person: "just now" under a minute (Django's
    `timesince` would say "0 minutes"), else "5 minutes ago", "1 hour, 5 minutes ago"."""
    if timezone.now() - moment < JUST_NOW:
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def first_field_focused(form: forms.BaseForm) -> forms.BaseForm:
    """`form` with the cursor in its first visible field when the page opens (`autofocus`),
    and in no other (Django's sign-up form puts it on the email): for a page that is there
    only to fill in this form (log in, sign up, the password pages, a new link, a rename),
    not one to read before deciding (delete, merge, publish), which a phone would scroll
    past to the field.
    `{% for field in form|first_field_focused %}`; returns the same form."""
    visible = [bound.name for bound in form.visible_fields()]
    for name, field in form.fields.items():
        field.widget.attrs.pop("autofocus", None)
        if visible and name == visible[0]:
            field.widget.attrs["autofocus"] = True
    return form


@register.simple_tag(takes_context=True)
def kept_until(context: template.Context, *moments: datetime | None) -> str:
    """`{% kept_until moment … %}`: more times (datetimes, or None) this page changes by the
    clock alone, past what its pulse knows (a preview with no link expiring): a render of it
    kept (`reactions.live.Kept`, in the context as `kept` by `live_page`) holds until the
    first of them. Writes nothing."""
    kept = context.get("kept")
    if kept is not None and kept.key is not None:
        kept.moments.extend(moments)
    return ""
