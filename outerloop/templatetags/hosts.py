"""URLs and host names in templates, as people read them (an href keeps the stored URL:
HTML carries Unicode, and the browser converts its host; only headers need ASCII)."""

from django import template

from sessions import hosts

register = template.Library()


@register.filter
def display_url(url: str) -> str:
    """A URL as a person reads it (`sessions.hosts.display_url`): text only, never an href."""
    return hosts.display_url(url or "")


@register.filter
def display_host(host: str) -> str:
    """A host name as a person reads it (`sessions.hosts.unicode_host`)."""
    return hosts.unicode_host(host or "")


@register.filter
def same_network_only(url: str) -> bool:
    """Whether a preview URL opens only for someone on the builder's network (a private
    address, `sessions.hosts.Reach.SAME_NETWORK`): `{% if preview.url|same_network_only %}`."""
    return hosts.url_reach(url or "") is hosts.Reach.SAME_NETWORK
