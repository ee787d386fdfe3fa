"""The account pages: sign up, confirm the address, log in and out, reset the password.

They answer the same whether or not an address has an account (an existing one gets an
email, never a message on the page), they throttle guessing and flooding (per address and
per client, `outerloop.throttles`), and they send every email through the outbox, never
inside the request.
"""

import secrets

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from common import changes, limits, outbox
from common.builders import Builder, EmailKind
from common.redirects import SafeNextMixin, redirect_next
from outerloop import throttles
from outerloop.account_emails import confirmed_builder
from outerloop.forms import LoginForm, PasswordResetForm, SetPasswordForm, SignupForm

SIGNUP_EMAIL = "signup_email"  # the session key the check-your-email page reads


def _nonce() -> str:
    return secrets.token_hex(8)


def _too_many(request: HttpRequest, template: str, context: dict, limit) -> HttpResponse:
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(limits.retry_after(limit))
    return response


# Sign up and confirm -------------------------------------------------------------------------


@never_cache  # the same headers signed in or not: PrivatePagesMiddleware would differ
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """A new address gets an account (logged in at once) and a confirmation link; an address
    already in use gets an email saying so, and no account. Both answers are the same page."""
    if request.user.is_authenticated:
        return redirect("outerloop:dashboard")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        refused = throttles.signup_refused(request)
        if refused:
            form.add_error(None, throttles.message(throttles.SIGNUP_MESSAGE, refused))
            return _too_many(request, "outerloop/signup.html", {"form": form}, refused)
        email = form.cleaned_data["email"]
        builder = _new_builder(form)
        if builder is None:
            _tell_the_owner(Builder.objects.get(email__iexact=email))
            # What login() does to the cookies, so the answer carries the same ones.
            request.session.cycle_key()
            rotate_token(request)
        else:
            login(request, builder, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SIGNUP_EMAIL] = email
        return redirect("outerloop:signup-sent")
    return render(request, "outerloop/signup.html", {"form": form})


def _new_builder(form: SignupForm) -> Builder | None:
    """The new account with its confirmation email queued, or None when the address is taken
    (the password is hashed all the same, so both answers take as long)."""
    if Builder.objects.filter(email__iexact=form.cleaned_data["email"]).exists():
        make_password(form.cleaned_data["password1"])
        return None
    try:
        with transaction.atomic():
            builder = form.save()
            send_confirmation(builder)
    except IntegrityError:  # the same address signed up a moment ago
        return None
    return builder


def _tell_the_owner(existing: Builder) -> None:
    """Someone signed up with an address in use: its owner hears so, at most once an hour. An
    address nobody confirmed yet (a form sent twice, or someone else's sign-up) gets its
    confirmation again instead, which is all it may get."""
    hour = timezone.now().strftime("%Y-%m-%dT%H")
    with transaction.atomic():
        if existing.email_confirmed_at is None:
            outbox.queue_email(existing, EmailKind.CONFIRM, f"confirm:signup:{hour}")
        else:
            outbox.queue_email(existing, EmailKind.SIGNUP_ATTEMPT, f"signup:{hour}")


def send_confirmation(builder: Builder) -> None:
    """Queue a new confirmation link for the builder's address (in the caller's transaction)."""
    outbox.queue_email(builder, EmailKind.CONFIRM, f"confirm:{_nonce()}")


@never_cache
@require_http_methods(["GET"])
def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "outerloop/signup_sent.html", {"email": request.session.get(SIGNUP_EMAIL)}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation email. The GET asks (mail scanners follow links); the
    POST confirms, then shows the answer at the same address (a reload asks nothing)."""
    builder = confirmed_builder(token)
    if builder is None:
        return render(request, "outerloop/confirm_email.html", {"invalid": True}, status=400)
    if request.method == "POST":
        Builder.objects.filter(pk=builder.pk, email_confirmed_at__isnull=True).update(
            email_confirmed_at=timezone.now()
        )
        changes.builder_changed(builder.pk)
        return redirect(request.path)
    done = builder.email_confirmed_at is not None
    return render(request, "outerloop/confirm_email.html", {"builder": builder, "done": done})


@login_required
@require_POST
def confirm_email_again(request: HttpRequest) -> HttpResponse:
    """The banner's "send the link again" (a few an hour)."""
    builder = request.user
    if builder.email_confirmed_at is not None:
        messages.info(request, "Your address is already confirmed.")
    elif refused := throttles.confirmation_refused(builder):
        messages.error(request, throttles.message(throttles.CONFIRMATION_MESSAGE, refused))
    else:
        with transaction.atomic():
            send_confirmation(builder)
        messages.success(request, f"Sent again to {builder.email}. Open the link in it.")
    return redirect_next(request, reverse("outerloop:dashboard"))


# Log in and out ------------------------------------------------------------------------------


class LoginView(SafeNextMixin, auth_views.LoginView):
    """Django's LoginView; its form stops at too many failures (LoginForm)."""

    template_name = "outerloop/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.refused_by:
            response.status_code = 429
            response["Retry-After"] = str(limits.retry_after(form.refused_by))
        return response


class LogoutView(SafeNextMixin, auth_views.LogoutView):
    pass


# Reset the password --------------------------------------------------------------------------


@method_decorator(never_cache, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Asks for an address; the same answer whether or not it has an account. A few requests
    an hour per address and per client; the email goes through the outbox."""

    template_name = "outerloop/password_reset.html"
    form_class = PasswordResetForm
    success_url = reverse_lazy("outerloop:password-reset-sent")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"]
        refused = throttles.reset_refused(self.request, email)
        if refused:
            form.add_error(None, throttles.message(throttles.RESET_MESSAGE, refused))
            context = self.get_context_data(form=form)
            return _too_many(self.request, self.template_name, context, refused)
        with transaction.atomic():
            for builder in form.get_users(email):
                outbox.queue_email(builder, EmailKind.PASSWORD_RESET, f"reset:{_nonce()}")
        return redirect(self.success_url)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The new password logs the owner in at once, and clears the failed logins counted
    against their address: someone keeping it locked out can't keep its owner out."""

    template_name = "outerloop/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("outerloop:password-reset-complete")
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        throttles.forget_login_failures(form.user.email)
        return super().form_valid(form)
