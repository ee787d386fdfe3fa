from django.urls import path

from reactions import recipient, views

app_name = "reactions"

urlpatterns = [
    # The builder's side.
    path("previews/<int:preview_id>/share/", views.share_create, name="share-create"),
    path("shares/<int:share_id>/", views.share_detail, name="share-detail"),
    path("shares/<int:share_id>/reshare/", views.share_renew, name="share-renew"),
    path("reactions/<int:reaction_id>/counts/", views.reaction_counts, name="reaction-counts"),
    path("people/", views.people, name="people"),
    path("people/<int:recipient_id>/share-again/", views.share_again, name="share-again"),
    # The recipient's side: no account, ever.
    path("r/<str:token>/", recipient.recipient_page, name="recipient-page"),
    path("r/<str:token>/seen/", recipient.recipient_seen, name="recipient-seen"),
    path("r/<str:token>/go/", recipient.recipient_go, name="recipient-go"),
    path("r/<str:token>/react/", recipient.recipient_react, name="recipient-react"),
    path("r/<str:token>/thanks/", recipient.recipient_thanks, name="recipient-thanks"),
    path("r/<str:token>/fresh/", recipient.recipient_fresh, name="recipient-fresh"),
]
