"""The builder's account pages, under /settings/: the settings (zone, day start, rest days,
emails, API tokens), turning email back on, taking all your data with you (JSON or CSV), and
deleting the account and all of it."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common import changes
from common.builders import Builder
from outerloop import export
from outerloop.forms import DeleteAccountForm, SettingsForm
from outerloop.models import ApiToken
from outerloop.tokens import TokenForm


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    form = SettingsForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        # Only the form's fields: the mailbox state the provider's events write meanwhile
        # (common.bounces) must not be put back as this page loaded it.
        form.save(commit=False).save(update_fields=SettingsForm.Meta.fields)
        messages.success(request, "Settings saved. Days already logged keep the date they had.")
        return redirect("outerloop:settings")
    context = {
        "form": form,
        "tokens": ApiToken.objects.owned_by(request.user),
        "token_form": TokenForm(),
    }
    return render(request, "outerloop/settings.html", context)


@login_required
@require_POST
def email_resume(request: HttpRequest) -> HttpResponse:
    """The builder fixed their mailbox: send to it again, with no soft bounces counted."""
    Builder.objects.filter(pk=request.user.pk).update(
        email_undeliverable_at=None,
        email_undeliverable_reason="",
        email_soft_bounces=0,
        email_soft_bounced_since=None,
        email_paused=False,
    )
    changes.builder_changed(request.user.pk)
    messages.success(request, "Email is back on. We'll write to you again.")
    return redirect("outerloop:settings")


def _attachment(chunks, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
@require_GET
def export_json(request: HttpRequest) -> StreamingHttpResponse:
    chunks = export.json_chunks(request.user, timezone.now())
    return _attachment(
        chunks, "application/json; charset=utf-8", export.filename(request.user, "json")
    )


@never_cache
@login_required
@require_GET
def export_zip(request: HttpRequest) -> StreamingHttpResponse:
    chunks = export.zip_chunks(request.user, timezone.now())
    return _attachment(chunks, "application/zip", export.filename(request.user, "zip"))


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    """Asks for the password, says what goes; then the builder and all they own are gone."""
    builder = request.user
    form = DeleteAccountForm(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = builder.email
        with transaction.atomic():
            # Every table the builder owns cascades from the account (see export.TABLES).
            builder.delete()
        logout(request)
        messages.success(
            request, f"Your account {email} and everything in it are deleted. Thanks for building."
        )
        return redirect("outerloop:dashboard")
    context = {"form": form, "counts": export.owned_counts(builder)}
    return render(
        request, "outerloop/delete_account.html", context, status=400 if form.errors else 200
    )
