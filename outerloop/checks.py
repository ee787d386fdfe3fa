"""System checks for configuration that would otherwise fail quietly in production."""

from urllib.parse import urlsplit

import tldextract
from django.conf import settings
from django.core.checks import Error, Warning, register

from common import outbox
from common.builders import EmailKind
from outerloop.env import is_loopback_origin

CONSOLE_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}


@register(deploy=True)
def check_email_backend(app_configs, **kwargs) -> list[Warning]:
    if settings.EMAIL_BACKEND in CONSOLE_BACKENDS:
        return [
            Warning(
                "EMAIL_BACKEND prints email instead of sending it: password resets never arrive.",
                hint="Set EMAIL_BACKEND to an Anymail backend and its ANYMAIL_* variables "
                "(README).",
                id="outerloop.W001",
            )
        ]
    return []


@register(deploy=True)
def check_base_url(app_configs, **kwargs) -> list[Warning]:
    if not settings.OUTERLOOP_BASE_URL.startswith("https://"):
        return [
            Warning(
                "OUTERLOOP_BASE_URL is not https: links, QR codes and cookies are not protected.",
                hint="Set OUTERLOOP_BASE_URL=https://your.domain",
                id="outerloop.W002",
            )
        ]
    return []


@register(deploy=True)
def check_operator_email(app_configs, **kwargs) -> list[Warning]:
    if not settings.OUTERLOOP_OPERATOR_EMAIL:
        return [
            Warning(
                "OUTERLOOP_OPERATOR_EMAIL is not set: publishing is off for every builder.",
                hint="Set it to the address of the person who wires domains.",
                id="outerloop.W003",
            )
        ]
    return []


@register
def check_proxy(app_configs, **kwargs) -> list[Warning]:
    """Runs with the commands that run system checks (`migrate` and `runserver` too), not only
    with `check --deploy`: the loop it warns about takes the whole site down."""
    if settings.SECURE_SSL_REDIRECT and settings.OUTERLOOP_BEHIND_PROXY is None:
        return [
            Warning(
                "OUTERLOOP_BASE_URL is https and OUTERLOOP_BEHIND_PROXY is unset: behind a "
                "proxy that terminates TLS (nginx, Caddy, a load balancer), every request "
                "arrives as http and is redirected to https, forever.",
                hint="Behind such a proxy, set OUTERLOOP_BEHIND_PROXY=true (the proxy must set "
                "X-Forwarded-Proto). If gunicorn itself terminates TLS, set it to false.",
                id="outerloop.W004",
            )
        ]
    return []


@register(deploy=True)
def check_proxy_said(app_configs, **kwargs) -> list[Warning]:
    if settings.OUTERLOOP_BEHIND_PROXY is None and not settings.SECURE_SSL_REDIRECT:
        return [
            Warning(
                "OUTERLOOP_BEHIND_PROXY is unset: behind a reverse proxy, every visitor has the "
                "proxy's address, so the rate limits and login throttles count them all as one "
                "client (30 wrong passwords from anyone would refuse every login).",
                hint="Set OUTERLOOP_BEHIND_PROXY=true behind a proxy that sets X-Forwarded-For "
                "and X-Forwarded-Proto, or false if clients reach gunicorn directly.",
                id="outerloop.W005",
            )
        ]
    return []


@register
def check_loopback_base_url(app_configs, **kwargs) -> list[Warning]:
    """Runs with every command that runs system checks, `make run`'s last step before it
    starts the processes included: a builder trying it on a laptop hears it first."""
    if is_loopback_origin(settings.OUTERLOOP_BASE_URL):
        return [
            Warning(
                f"OUTERLOOP_BASE_URL is {settings.OUTERLOOP_BASE_URL}, a loopback address: "
                "share links, QR codes and emails point at this computer, so they can't open "
                "on the recipient's phone.",
                hint="For phones on your network, run with WEB_BIND=0.0.0.0:8000 (links then "
                "use this machine's LAN address) or set OUTERLOOP_BASE_URL to it, e.g. "
                "http://192.168.x.y:8000. For anyone else, set OUTERLOOP_BASE_URL to a public "
                "URL or a tunnel's that forwards to WEB_BIND.",
                id="outerloop.W006",
            )
        ]
    return []


PUBLIC_SUFFIXES = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)


def registrable_domain(host: str) -> str:
    """The registrable domain of a host name ("eTLD+1": "example.com" for "a.b.example.com",
    "alex.github.io" for "x.alex.github.io"), by the Public Suffix List
    (https://publicsuffix.org/list/) with its private section, as browsers apply it to cookies;
    "" for a name with no public suffix (localhost, an IP address). Uses the snapshot of the
    list bundled with tldextract: no network."""
    found = PUBLIC_SUFFIXES(host)
    return f"{found.domain}.{found.suffix}" if found.domain and found.suffix else ""


@register(deploy=True)
def check_preview_domain(app_configs, **kwargs) -> list[Warning]:
    """Cookie tossing: a page on a host can set a cookie for its whole registrable domain
    (RFC 6265 §5.3 step 5 refuses only public suffixes), which the browser then sends to the
    app. Hosted previews run builders' code, so they must live on a registrable domain of
    their own (sessions/hosted.py)."""
    app = urlsplit(settings.OUTERLOOP_BASE_URL).hostname or ""
    preview = urlsplit(f"//x.{settings.OUTERLOOP_PREVIEW_DOMAIN}").hostname or ""
    shared = registrable_domain(app)
    if shared and shared == registrable_domain(preview):
        return [
            Warning(
                f"OUTERLOOP_PREVIEW_DOMAIN ({settings.OUTERLOOP_PREVIEW_DOMAIN}) shares the "
                f"registrable domain {shared} with the app: a hosted preview's code can set "
                "cookies for it that the app then reads (cookie tossing: a forced login, a "
                "fixed CSRF token).",
                hint="Serve previews from a domain of their own, e.g. the app on "
                "outerloop.example.com and previews on example-previews.net (Public Suffix "
                "List, https://publicsuffix.org/).",
                id="outerloop.W007",
            )
        ]
    return []


@register()
def check_every_email_has_a_composer(app_configs, **kwargs) -> list[Error]:
    """Every EmailKind is written by exactly one composer (common.outbox): a kind without one
    would be claimed and never sent. Composers register as their modules are imported."""
    missing = sorted(set(EmailKind) - set(outbox.composers()))
    return [
        Error(
            f"No composer writes the {kind} email: it would be claimed and never sent.",
            hint="Register one with @outbox.composer(EmailKind...) in a module the app "
            "imports at start-up (OuterloopConfig.ready).",
            id="outerloop.E001",
        )
        for kind in missing
    ]
