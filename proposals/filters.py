import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.models import Unit
from core.forms import FastSelect

from . import search
from .models import Assignment, Category, Proposal, Session


class ProposalFilter(django_filters.FilterSet):
    session = django_filters.ModelChoiceFilter(
        label=_("Session"),
        queryset=Session.objects.select_related("term"),
        empty_label=_("All"),
        widget=FastSelect,
    )
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=Proposal.State.choices, empty_label=_("All"), widget=FastSelect
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("Handling unit"),
        queryset=Unit.objects.filter(is_active=True),
        method="filter_unit",
        empty_label=_("All"),
        widget=FastSelect,
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        empty_label=_("All"),
        widget=FastSelect,
    )
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")

    class Meta:
        model = Proposal
        fields = ["session", "state", "unit", "category"]

    def filter_unit(self, queryset, name, value):
        return queryset.filter(
            Exists(Assignment.objects.filter(proposal=OuterRef("pk"), unit=value, is_active=True))
        )

    def filter_search(self, queryset, name, value):
        """Every word in the title, number, proposers, reasons, suggestions or sent replies
        (proposals/search.py). Unordered: see `ranked`."""
        return search.search(queryset, value)

    def search_words(self):
        """The searched words (`q`, cut as the search cuts it), else []."""
        if not self.is_bound or not self.is_valid():
            return []
        return search.query_tokens(self.form.cleaned_data.get("q") or "")

    def ranked(self, queryset=None, words=None):
        """When searched (`q`): the proposals the other filters leave (of `queryset`, by default
        the filter's own) that hold every word, best first (search.Ranked), for a paginator;
        else None. `words`: `search_words()`, when the caller has them already."""
        words = self.search_words() if words is None else words
        if not words:
            return None
        queryset = self.queryset.all() if queryset is None else queryset
        # The filters but `q`, as FilterSet.filter_queryset applies them.
        for name, value in self.form.cleaned_data.items():
            if name != "q":
                queryset = self.filters[name].filter(queryset, value)
        return search.Ranked(queryset, words)
