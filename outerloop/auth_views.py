"""The account pages: log in and out (sign-up and password reset join them below)."""

from django.contrib.auth import views as auth_views

from outerloop.forms import LoginForm
from outerloop.redirects import SafeNextMixin


class LoginView(SafeNextMixin, auth_views.LoginView):
    template_name = "outerloop/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(SafeNextMixin, auth_views.LogoutView):
    pass
