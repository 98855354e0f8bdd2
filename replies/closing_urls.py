"""Receipts, re-handling and closing; included at /work/closing/ (namespace closing)."""

from django.urls import path

from .views import closing, receipts

app_name = "closing"
urlpatterns = [
    path("receipts/", receipts.receipts, name="receipts"),
    path("receipts/export.xlsx", receipts.receipts_export, name="receipts_export"),
    path("receipts/<int:receipt_pk>/paper/", receipts.paper_receipt, name="paper_receipt"),
    path("", closing.queue, name="queue"),
    path("export.xlsx", closing.queue_export, name="queue_export"),
    path("rehandle/<int:proposal_pk>/", closing.rehandle, name="rehandle"),
    path("close/<int:proposal_pk>/", closing.close, name="close"),
    path("close/", closing.close_bulk, name="close_bulk"),
]
