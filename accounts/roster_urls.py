"""The roster import in the staff UI, under /work/roster/ (namespace "roster")."""

from django.urls import path

from . import roster_views as views

app_name = "roster"

urlpatterns = [
    path("import/", views.roster_upload, name="upload"),
    path("import/template.xlsx", views.roster_template, name="template"),
    path("import/<str:token>/", views.roster_preview, name="preview"),
    path("import/<str:token>/confirm/", views.roster_confirm, name="confirm"),
    path("import/<str:token>/done/", views.roster_done, name="done"),
    path("import/<str:token>/accounts.xlsx", views.roster_accounts, name="accounts"),
]
