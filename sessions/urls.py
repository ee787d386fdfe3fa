from django.urls import path

from sessions import views

app_name = "sessions"

urlpatterns = [
    path("sessions/", views.session_list, name="session-list"),
    path("sessions/<int:session_id>/", views.session_detail, name="session-detail"),
    path("sessions/<int:session_id>/previews/", views.preview_add, name="preview-add"),
    path("previews/<int:preview_id>/renew/", views.preview_renew, name="preview-renew"),
]
