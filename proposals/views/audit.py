"""The proposals' workflow events (who moved what from which state to which), for the audit
administrator: the same filters and download as the security record's page."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.forms import AuditFilterForm
from core.paginator import EstimatingPaginator
from core.spreadsheets import xlsx_response
from core.views import require

from .. import hooks
from ..models import Event

PAGE_SIZE = 50


class EventFilterForm(AuditFilterForm):
    """Person, time, action (the event's verb) and object (a proposal's number or title)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].label = _("Action")
        self.fields["kind"].choices = [
            ("", _("All actions")),
            *sorted(((verb, str(label)) for verb, label in hooks.EVENT_LABELS.items())),
        ]

    def filter_object(self, queryset, text):
        if text.isdigit() and len(text) < 10:
            return queryset.filter(Q(proposal__number=int(text)) | Q(proposal_id=int(text)))
        return queryset.filter(proposal__title__icontains=text)

    def filter_kind(self, queryset, kind):
        return queryset.filter(verb=kind)


def may_read_the_events(user):
    return user.has_perm("proposals.view_event")


def filtered_events(request):
    form = EventFilterForm(request.GET or None)
    return form, form.filter(Event.objects.all())


@login_required
@require_GET
def events(request):
    require(may_read_the_events(request.user))
    form, queryset = filtered_events(request)
    queryset = queryset.select_related("proposal", "actor").order_by("-created_at", "-id")
    page = EstimatingPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    for event in page:
        event.label = hooks.EVENT_LABELS.get(event.verb, event.verb)
    return render(
        request, "work/audit_events.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@require_GET
def events_export(request):
    require(may_read_the_events(request.user))
    _form, queryset = filtered_events(request)
    labels = {verb: str(label) for verb, label in hooks.EVENT_LABELS.items()}
    rows = (
        (
            timezone.localtime(created_at).strftime("%Y-%m-%d %H:%M:%S"),
            labels.get(verb, verb),
            username or actor_name,
            number or "",
            title,
            from_state,
            to_state,
            comment,
        )
        for created_at, verb, username, actor_name, number, title, from_state, to_state, comment in (
            queryset.order_by("-created_at", "-id")
            .values_list(
                "created_at",
                "verb",
                "actor__username",
                "actor_name",
                "proposal__number",
                "proposal__title",
                "from_state",
                "to_state",
                "comment",
            )
            .iterator(chunk_size=2000)
        )
    )
    headers = [
        _("Time"),
        _("Action"),
        _("Person"),
        _("Number"),
        _("Title"),
        _("From state"),
        _("To state"),
        _("Comment"),
    ]
    return xlsx_response(
        "办理流程记录", _("Workflow events"), headers, rows, [20, 16, 16, 8, 40, 14, 14, 40]
    )
