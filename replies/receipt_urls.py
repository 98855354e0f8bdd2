from django.urls import path

from .views import receipts

app_name = "receipts"
urlpatterns = [
    # Before the token pattern, which would take "mine" for a token.
    path("mine/", receipts.mine, name="mine"),
    path("<str:token>/", receipts.form, name="form"),
]
