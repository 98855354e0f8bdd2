from django.urls import path

from . import api, feeds
from .views import public

app_name = "public"
urlpatterns = [
    path("", public.index, name="index"),
    path("search/", public.search_page, name="search"),
    path("api/", api.docs_page, name="api"),
    path("replies/feed/", feeds.latest_replies, name="feed"),
    path("replies/<int:pk>/", public.reply, name="reply"),
    path("replies/<int:pk>/print/", public.reply_print, name="reply_print"),
    path("replies/<int:pk>/pdf/", public.reply_pdf, name="reply_pdf"),
    path("replies/<int:pk>/versions/<int:version>/", public.reply_version, name="reply_version"),
]
