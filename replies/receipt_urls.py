from django.urls import path

from . import receipt_views

app_name = "receipts"
urlpatterns = [
    # Before the token pattern, which would take "mine" for a token.
    path("mine/", receipt_views.mine, name="mine"),
    path("<str:token>/", receipt_views.form, name="form"),
]
