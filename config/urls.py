from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as account_views
from proposals.views import workspace as workspace_views
from replies.api import api as open_data_api

# Load and fault tests: a database that is down answers 503 with a page in Chinese (core/errors.py).
handler500 = "core.errors.server_error"

urlpatterns = [
    path("", include("replies.public_urls")),
    # The open-data API (replies/api.py); its page in Chinese is public:api (/api/).
    # Its root (django-ninja's api:api-root, with no interactive docs) goes to that page.
    path("api/v1/", RedirectView.as_view(pattern_name="public:api"), name="api_v1"),
    path("api/v1/", open_data_api.urls),
    path("work/", workspace_views.workspace, name="workspace"),
    path("work/closing/", include("replies.closing_urls")),
    path("work/statistics/", include("replies.statistics_urls")),
    path("work/compendium/", include("replies.compendium_urls")),
    path("work/proposals/", include("proposals.urls")),
    path("work/audit/", include("accounts.audit_urls")),
    path("work/replies/", include("replies.urls")),
    path("work/roster/", include("accounts.roster_urls")),
    path("r/", include("replies.receipt_urls")),
    path("accounts/", include("accounts.urls")),
    # One place to change one's password (it clears the forced change and is recorded).
    path(
        "admin/password_change/",
        RedirectView.as_view(pattern_name="password_change"),
        name="admin_password_change",
    ),
    path("admin/", admin.site.urls),
    path("healthz", account_views.healthz, name="healthz"),
]
