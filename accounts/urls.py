from django.contrib.auth import views as auth_views
from django.urls import path

from . import roster_views, views
from .forms import LoginForm

urlpatterns = [
    path(
        "login/",
        views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/", views.open_notification, name="open_notification"),
    path("notifications/read/", views.mark_all_read, name="mark_all_read"),
    path("outbox/", views.outbox_page, name="outbox"),
    # The one-time link of an account the roster import created (accounts/roster_views.py).
    path(
        "activate/<uidb64>/<token>/",
        roster_views.ActivateView.as_view(),
        name="activate",
    ),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("confirm/", views.reauthenticate, name="reauthenticate"),
]
