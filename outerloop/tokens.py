"""Personal API tokens, managed on the settings page: named, shown once, revocable."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from common.fields import PeoplesTextFormField
from common.ownership import owned_or_404
from outerloop.models import ApiToken


class TokenForm(forms.Form):
    prefix = "token"  # the settings page has another "name" field

    name = PeoplesTextFormField(
        label="Name the new token",
        max_length=60,
        error_messages={"required": "Name it after where it will live, e.g. “laptop CLI”."},
        widget=forms.TextInput(attrs={"placeholder": "laptop CLI"}),
    )


@never_cache
@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["name"][0])
        return redirect("outerloop:settings")
    token, raw = ApiToken.issue(request.user, form.cleaned_data["name"])
    context = {"token": token, "raw": raw, "base_url": settings.OUTERLOOP_BASE_URL}
    return render(request, "outerloop/token_created.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = owned_or_404(ApiToken, request, pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    messages.success(request, f"Revoked “{token.name}”: it stops working now.")
    return redirect("outerloop:settings")
