from django.urls import path

from .views import letters as views

app_name = "replies"
urlpatterns = [
    # Lists
    path("signoff/", views.signoff_queue, name="signoff_queue"),
    path("unpublished/", views.unpublished, name="unpublished"),
    path("mine/", views.mine, name="mine"),
    # Drafting
    path("start/<int:assignment_pk>/", views.start, name="start"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    # Sign-off
    path("<int:pk>/signoff/", views.signoff, name="signoff"),
    path("<int:pk>/sign/", views.sign, name="sign"),
    path("<int:pk>/send-back/", views.send_back, name="send_back"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    # Sending and publishing
    path("<int:pk>/send/", views.send, name="send"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/correct/", views.correct_typo, name="correct_typo"),
    path("<int:pk>/unpublish/", views.unpublish, name="unpublish"),
    # Corrections of a sent letter
    path("<int:pk>/correct-substance/", views.propose_correction, name="propose_correction"),
    path("<int:pk>/correction/sign/", views.sign_correction, name="sign_correction"),
    path(
        "<int:pk>/correction/send-back/",
        views.send_back_correction,
        name="send_back_correction",
    ),
]
