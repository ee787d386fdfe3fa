from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from outerloop import (
    account_views,
    edit_people,
    edit_sessions,
    habit_views,
    publish_views,
    session_views,
    tokens,
    views,
)
from outerloop import auth_views as auth_pages
from outerloop.api import api

# Build sessions' pages show what people did with them, so they live up here with the habit,
# under the sessions namespace their URLs have always had.
session_patterns = [
    path("sessions/", session_views.session_list, name="session-list"),
    path("sessions/<int:session_id>/", session_views.session_detail, name="session-detail"),
    path("sessions/<int:session_id>/previews/", session_views.preview_add, name="preview-add"),
    path("previews/<int:preview_id>/renew/", session_views.preview_renew, name="preview-renew"),
]

habit_patterns = [
    path("", views.home, name="dashboard"),
    path("turn/", views.turn, name="turn"),
    path("habit/", habit_views.habit_page, name="habit"),
    path("days/<str:day>/", habit_views.day_detail, name="day"),
    path("previews/<int:preview_id>/publish/", publish_views.publish, name="publish"),
    path("sessions/<int:session_id>/rename/", edit_sessions.session_rename, name="session-rename"),
    path("sessions/<int:session_id>/merge/", edit_sessions.session_merge, name="session-merge"),
    path("sessions/<int:session_id>/delete/", edit_sessions.session_delete, name="session-delete"),
    path("previews/<int:preview_id>/delete/", edit_sessions.preview_delete, name="preview-delete"),
    path("shares/<int:share_id>/delete/", edit_sessions.share_delete, name="share-delete"),
    path("people/<int:recipient_id>/rename/", edit_people.person_rename, name="person-rename"),
    path("people/<int:recipient_id>/merge/", edit_people.person_merge, name="person-merge"),
    path("settings/", account_views.account_settings, name="settings"),
    path("settings/email/resume/", account_views.email_resume, name="email-resume"),
    path("settings/tokens/", tokens.token_create, name="token-create"),
    path("settings/tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("settings/export.json", account_views.export_json, name="export-json"),
    path("settings/export.zip", account_views.export_zip, name="export-zip"),
    path("settings/delete/", account_views.delete_account, name="delete-account"),
    path("email/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("signup/", auth_pages.signup, name="signup"),
    path("signup/check-your-email/", auth_pages.signup_sent, name="signup-sent"),
    path("email/confirm/again/", auth_pages.confirm_email_again, name="confirm-email-again"),
    path("email/confirm/<str:token>/", auth_pages.confirm_email, name="confirm-email"),
    path("login/", auth_pages.LoginView.as_view(), name="login"),
    path("logout/", auth_pages.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_pages.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="outerloop/password_reset_sent.html"
        ),
        name="password-reset-sent",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_pages.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="outerloop/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
]

urlpatterns = [
    path("", include((habit_patterns, "outerloop"))),
    path("", include((session_patterns, "sessions"))),
    path("", include("reactions.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    # Bounces and complaints from the mail provider; without a secret anyone could post them.
    urlpatterns.append(path("anymail/", include("anymail.urls")))

handler404 = "outerloop.views.not_found"
