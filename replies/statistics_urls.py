"""Statistics; included at /work/statistics/ (namespace statistics)."""

from django.urls import path

from .views import statistics

app_name = "statistics"
urlpatterns = [
    path("", statistics.index, name="index"),
    path("xlsx/", statistics.xlsx, name="xlsx"),
]
