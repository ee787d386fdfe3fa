from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.ownership import owned_or_404
from outerloop import throttles
from outerloop.forms import PublishForm
from outerloop.publish import counting_reactions, publishing_enabled, request_publish
from sessions.models import Preview


@login_required
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest, preview_id: int) -> HttpResponse:
    """Ask to keep a preview that earned its reactions on a domain of the builder's own."""
    preview = owned_or_404(Preview.objects.select_related("session"), request, pk=preview_id)
    reactions = counting_reactions(preview).count()
    enabled = publishing_enabled()
    form = PublishForm(request.POST if request.method == "POST" else None)
    confirmed = request.user.email_confirmed_at is not None
    status = 200
    if request.method == "POST" and enabled and reactions and confirmed and form.is_valid():
        refused = throttles.publish_refused(request.user)
        if refused is None:
            request_publish(preview, form.cleaned_data["domain"], form.cleaned_data["note"])
            messages.success(
                request, "Sent. A person will set up the DNS by hand and email you when it's live."
            )
            return redirect("outerloop:publish", preview_id=preview.pk)
        form.add_error(None, throttles.message(throttles.PUBLISH_MESSAGE, refused))
        status = 429
    context = {
        "preview": preview,
        "form": form,
        "enabled": enabled,
        "reactions": reactions,
        "requests": preview.publish_requests.all(),
    }
    if form.errors and status == 200:
        status = 400
    return render(request, "outerloop/publish.html", context, status=status)
