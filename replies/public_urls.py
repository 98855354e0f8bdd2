from django.urls import path

from . import feeds, public_views

app_name = "public"
urlpatterns = [
    path("", public_views.index, name="index"),
    path("replies/feed/", feeds.latest_replies, name="feed"),
    path("replies/<int:pk>/", public_views.reply, name="reply"),
    path("replies/<int:pk>/print/", public_views.reply_print, name="reply_print"),
]
