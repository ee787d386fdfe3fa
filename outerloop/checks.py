"""System checks for configuration that would otherwise fail quietly in production."""

from django.conf import settings
from django.core.checks import Warning, register

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
