from django.urls import path

from . import public_views

app_name = "public"
urlpatterns = [
    path("", public_views.index, name="index"),
    path("replies/<int:pk>/", public_views.reply, name="reply"),
]
