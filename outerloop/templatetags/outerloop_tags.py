from functools import lru_cache
from pathlib import Path

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils.safestring import SafeString, mark_safe

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


@register.simple_tag
def loopback_base_url() -> str:
    """OUTERLOOP_BASE_URL when it is a loopback address (outerloop.env.is_loopback_origin), so
    no recipient's phone can open its links; "" otherwise: `{% loopback_base_url as url %}`."""
    base_url = settings.OUTERLOOP_BASE_URL
    return base_url if is_loopback_origin(base_url) else ""
