from django.urls import path

app_name = "replies"
urlpatterns: list = []
