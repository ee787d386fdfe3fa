from django.http import HttpRequest


def csp_nonce(request: HttpRequest) -> dict:
    """`csp_nonce` for inline <style>/<script> tags (django-htmx's script tag reads it too)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
