from django.urls import path

from .views import audit, committee, handling, imports, proposer, supervision, workspace

app_name = "proposals"
urlpatterns = [
    # Everyone who may see it
    path("<int:pk>/", workspace.detail, name="detail"),
    # Proposers
    path("mine/", proposer.my_proposals, name="mine"),
    path("new/", proposer.create, name="create"),
    path("<int:pk>/edit/", proposer.edit, name="edit"),
    path("<int:pk>/submit/", proposer.submit, name="submit"),
    path("<int:pk>/cosign/", proposer.cosign, name="cosign"),
    path("<int:pk>/withdraw/", proposer.withdraw, name="withdraw"),
    # Committee staff
    path("register/", committee.register, name="register"),
    # The audit administrator's (accounts/roles.py)
    path("events/", audit.events, name="events"),
    path("events/export.xlsx", audit.events_export, name="events_export"),
    path("review/", committee.review_queue, name="review_queue"),
    path("review/export.xlsx", committee.review_queue_export, name="review_queue_export"),
    path("export.xlsx", workspace.workspace_export, name="export"),
    path("<int:pk>/review/", committee.review, name="review"),
    path("<int:pk>/assign/", committee.assign, name="assign"),
    path("assign/", committee.assign_bulk, name="assign_bulk"),
    path("returns/", committee.return_requests, name="return_requests"),
    path(
        "assignments/<int:pk>/return-decision/",
        committee.decide_return,
        name="decide_return",
    ),
    path("extensions/", supervision.extension_requests, name="extension_requests"),
    path("extensions/<int:pk>/decision/", supervision.decide_extension, name="decide_extension"),
    path("<int:pk>/key/", supervision.mark_key, name="mark_key"),
    path("<int:pk>/supervise/", supervision.supervise, name="supervise"),
    path("supervision/", supervision.supervision, name="supervision"),
    path("import/", imports.import_upload, name="import_upload"),
    path("import/template.xlsx", imports.import_template, name="import_template"),
    path("import/<str:token>/", imports.import_preview, name="import_preview"),
    path("import/<str:token>/confirm/", imports.import_confirm, name="import_confirm"),
    path("import/<str:token>/progress/", imports.import_progress, name="import_progress"),
    path("import/<str:token>/done/", imports.import_done, name="import_done"),
    # Handling units
    path("inbox/", handling.inbox, name="inbox"),
    path("inbox/export.xlsx", handling.inbox_export, name="inbox_export"),
    path("assignments/<int:pk>/acknowledge/", handling.acknowledge, name="acknowledge"),
    path("assignments/<int:pk>/return/", handling.request_return, name="request_return"),
    path("assignments/<int:pk>/opinion/", handling.opinion, name="opinion"),
    path("assignments/<int:pk>/contact/", handling.contact, name="contact"),
    path(
        "assignments/<int:pk>/extension/", supervision.request_extension, name="request_extension"
    ),
    path(
        "supervision-notes/<int:pk>/answer/",
        supervision.answer_supervision,
        name="answer_supervision",
    ),
    path("opinions/<int:pk>/attachment/", handling.opinion_attachment, name="opinion_attachment"),
]
