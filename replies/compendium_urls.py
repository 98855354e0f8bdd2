"""The session's compendium (提案及办理答复汇编); included at /work/compendium/."""

from django.urls import path

from .views import compendium

app_name = "compendium"
urlpatterns = [
    path("", compendium.index, name="index"),
    path("<int:pk>/start/", compendium.start, name="start"),
    path("<int:pk>/status/", compendium.status, name="status"),
    path("<int:pk>/download/", compendium.download, name="download"),
]
