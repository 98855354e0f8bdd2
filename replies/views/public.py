"""The public column 政协委员提案: published replies, for anyone, without logging in.

A letter is public while the workflow keeps it on the site (`is_public`: published
and not taken off) and its disclosure is not "none"; anything else is a 404. Pages show the publication's title and text — for a summary letter the
summary, never the internal body — and nothing of the proposer but the
salutation. Every page answers conditional requests (ETag, Last-Modified).
"""

import datetime
import hashlib
from collections import namedtuple
from dataclasses import dataclass

import django_filters
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import condition, require_safe

from accounts.models import Unit
from accounts.notifications import absolute_url
from proposals import search
from proposals.models import Category, Session

from .. import public_cache
from ..models import Publication, PublicReplySearch, ReplyLetter
from ..pdf import PAGE_QR_CAPTION, page_qr_svg, render_public_pdf
from ..services import letter_paragraphs

PAGE_SIZE = 20
COUNT_CACHE_SECONDS = 600


def public_letters():
    """The letters the public may read."""
    return ReplyLetter.objects.filter(is_public=True).exclude(
        disclosure=ReplyLetter.Disclosure.NONE
    )


def latest_publication(field):
    """One field of the letter's latest publication, as a subquery."""
    latest = Publication.objects.filter(letter=OuterRef("pk")).order_by("-version")
    return Subquery(latest.values(field)[:1])


def column_letters(annotate=True):
    """The column's list: public letters, newest first, with what a list row shows."""
    qs = (
        public_letters()
        .select_related("assignment__unit")
        .only(
            "published_at",
            "assignment__unit__name",
            "assignment__unit__short_name",
        )
        .order_by("-published_at", "-id")
    )
    if annotate:
        qs = qs.annotate(
            public_title=latest_publication("title"),
            public_published_at=latest_publication("published_at"),
        )
    return qs


def annotate_page(page):
    """The publication's title and date for the rows of one page only, not the skipped ones."""
    rows = list(page.object_list)
    extra = {
        pk: (title, at)
        for pk, title, at in ReplyLetter.objects.filter(pk__in=[r.pk for r in rows])
        .order_by()
        .annotate(t=latest_publication("title"), a=latest_publication("published_at"))
        .values_list("pk", "t", "a")
    }
    for row in rows:
        row.public_title, row.public_published_at = extra[row.pk]
    page.object_list = rows
    return page


def published_years():
    """From this year back to the year of the first published reply."""
    first = (
        ReplyLetter.objects.filter(state=ReplyLetter.State.PUBLISHED, published_at__isnull=False)
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    if first is None:
        return []
    return list(range(timezone.localdate().year, timezone.localtime(first).year - 1, -1))


class PublicReplyFilter(django_filters.FilterSet):
    """Filters on indexed columns only: the session, unit and category foreign keys (reached
    through the assignment and proposal foreign keys) and published_at (index letter_public_list).
    """

    session = django_filters.ModelChoiceFilter(
        label=_("Session"),
        field_name="assignment__proposal__session",
        queryset=Session.objects.select_related("term"),
        empty_label=_("All sessions"),
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("Handling unit"),
        field_name="assignment__unit",
        queryset=Unit.objects.filter(is_active=True).exclude(
            kind__in=[Unit.Kind.COMMITTEE, Unit.Kind.SUPERVISION]
        ),
        empty_label=_("All units"),
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        field_name="assignment__proposal__category",
        queryset=Category.objects.filter(is_active=True),
        empty_label=_("All categories"),
    )
    year = django_filters.ChoiceFilter(
        label=_("Year"), method="filter_year", choices=[], empty_label=_("All years")
    )

    class Meta:
        model = ReplyLetter
        fields = ["session", "unit", "category", "year"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Worked out once per request, not each time the form field lists its choices.
        self.filters["year"].extra["choices"] = [(str(y), str(y)) for y in published_years()]

    def filter_year(self, queryset, name, value):
        return queryset.filter(published_at__year=int(value))


# --- conditional requests ---------------------------------------------------------------------


def _digest(*parts):
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]


def column_version(request):
    """A digest of the column's state: it changes whenever the list of public letters does."""
    return _digest(get_language(), public_cache.column_version())


def column_etag(kind):
    def etag(request, *args, **kwargs):
        return _digest(kind, column_version(request))

    return etag


def public_letter(request, pk):
    """The public letter with its unit and current publication's id, or None; once per request."""
    letters = request.__dict__.setdefault("_public_letters", {})
    if pk not in letters:
        letters[pk] = (
            public_letters()
            .select_related("assignment__unit")
            .annotate(
                publication_id=latest_publication("pk"),
                publication_published_at=latest_publication("published_at"),
            )
            .filter(pk=pk)
            .first()
        )
    return letters[pk]


def letter_last_modified(request, pk, version=None):
    letter = public_letter(request, pk)
    if letter is None:
        return None
    return max(letter.updated_at, letter.publication_published_at)


def letter_etag(kind):
    def etag(request, pk, version=None):
        letter = public_letter(request, pk)
        if letter is None:
            return None
        return _digest(kind, get_language(), pk, version, letter.updated_at, letter.publication_id)

    return etag


# --- pages ------------------------------------------------------------------------------------


def site_context():
    return {"committee": settings.TIAN["COMMITTEE_NAME"]}


@require_safe
# ETag only: taking a reply off the site changes the column without a newer date.
@condition(etag_func=column_etag("column"))
def index(request):
    """The column: published replies, newest first, with filters."""
    filterset = PublicReplyFilter(request.GET or None, queryset=column_letters(annotate=False))
    query = request.GET.copy()
    query.pop("page", None)
    paginator = Paginator(filterset.qs, PAGE_SIZE)
    # Counting every public letter is what costs at scale, and the count can only change
    # when the column's state does: keep it under that state's digest.
    count_key = "public-count:" + _digest(column_version(request), query.urlencode())
    paginator.count = cache.get_or_set(count_key, filterset.qs.count, COUNT_CACHE_SECONDS)
    page = annotate_page(paginator.get_page(request.GET.get("page")))
    context = {"filter": filterset, "page": page, "query": query.urlencode(), **site_context()}
    return render(request, "public/index.html", context)


def blocks(text):
    """The text's paragraphs, with the numbered section headings (一、…) marked."""
    return [{"text": text, "heading": kind == "heading"} for kind, text in letter_paragraphs(text)]


def _publications(request, pk, version=None):
    """The public letter, its current publication and the one asked for (404 if none)."""
    letter = public_letter(request, pk)
    if letter is None:
        raise Http404
    current = get_object_or_404(Publication, pk=letter.publication_id)
    publication = current
    if version is not None and version != current.version:
        publication = get_object_or_404(Publication, letter=letter, version=version)
    return letter, current, publication


def _letter_page(request, pk, template, version=None):
    letter, current, publication = _publications(request, pk, version)
    signed = None
    if publication.kind == Publication.Kind.TYPO:
        # The version the leader signed, one click away from a corrected one.
        signed = (
            Publication.objects.filter(
                letter=letter, kind=Publication.Kind.SIGNED, version__lt=publication.version
            )
            .order_by("-version")
            .first()
        )
    context = {
        "letter": letter,
        "publication": publication,
        "current": current,
        "is_current": publication.pk == current.pk,
        "signed_version": signed,
        "unit": letter.assignment.unit,
        "is_summary": letter.disclosure == ReplyLetter.Disclosure.SUMMARY,
        "blocks": blocks(publication.text),
        "attestation": publication.attestation or letter.attestation,
        # As it was published: a unit renamed later does not rewrite its old letters.
        "unit_name": publication.unit_name or letter.assignment.unit.name,
        # Read inside a sentence: 更正说明：…，更正于….
        "correction_reason": publication.reason.rstrip("。.；;，, "),
        "letter_date": publication.letter_date or letter.letter_date or letter.published_at,
        # The page as a QR code, to go on reading on a phone; the current version's address.
        "page_qr": page_qr_svg(absolute_url(reverse("public:reply", args=[letter.pk]))),
        "page_qr_caption": PAGE_QR_CAPTION,
        **site_context(),
    }
    return render(request, template, context)


@require_safe
@condition(etag_func=letter_etag("reply"), last_modified_func=letter_last_modified)
def reply(request, pk):
    """One published reply, as the district website shows it."""
    return _letter_page(request, pk, "public/reply.html")


@require_safe
@condition(etag_func=letter_etag("print"), last_modified_func=letter_last_modified)
def reply_print(request, pk):
    """The same reply on a clean page for printing: no header, no navigation."""
    return _letter_page(request, pk, "public/print.html")


@require_safe
@condition(etag_func=letter_etag("version"), last_modified_func=letter_last_modified)
def reply_version(request, pk, version):
    """An earlier public version of a reply that is public now (e.g. the one as signed,
    before a correction of typing errors)."""
    return _letter_page(request, pk, "public/reply.html", version=version)


@require_safe
@condition(etag_func=letter_etag("pdf"), last_modified_func=letter_last_modified)
def reply_pdf(request, pk):
    """The current public version as a PDF in the letter format, without anything personal
    (no contact person or phone, no receipt QR). Kept in the public page cache like the page."""
    letter, _current, publication = _publications(request, pk)
    # Rendering costs a second of CPU: kept per version, whatever the query string says.
    key = "public-pdf:" + _digest(pk, publication.pk, letter.updated_at)
    content = cache.get(key)
    if content is None:
        content = render_public_pdf(letter, publication)
        cache.set(key, content, public_cache.CACHE_SECONDS)
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"{letter.doc_number or f'reply-{letter.pk}'}.pdf"
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response


# --- search -----------------------------------------------------------------------------------


class PublicSearchFilter(django_filters.FilterSet):
    """The words searched (`q`) and the column's filters, on the public letters' search
    entries (replies/search.py), which hold everything they filter by."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_search", max_length=100)
    session = django_filters.ModelChoiceFilter(
        label=_("Session"),
        queryset=Session.objects.select_related("term"),
        empty_label=_("All sessions"),
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("Handling unit"),
        queryset=Unit.objects.filter(is_active=True).exclude(
            kind__in=[Unit.Kind.COMMITTEE, Unit.Kind.SUPERVISION]
        ),
        empty_label=_("All units"),
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        empty_label=_("All categories"),
    )
    year = django_filters.ChoiceFilter(
        label=_("Year"), method="filter_year", choices=[], empty_label=_("All years")
    )
    result_class = django_filters.ChoiceFilter(
        label=_("Result class"), choices=ReplyLetter.ResultClass.choices, empty_label=_("All")
    )

    class Meta:
        model = PublicReplySearch
        fields = ["q", "session", "unit", "category", "year", "result_class"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["year"].extra["choices"] = [(str(y), str(y)) for y in published_years()]

    def filter_year(self, queryset, name, value):
        return queryset.filter(published_at__year=int(value))

    def filter_search(self, queryset, name, value):
        return search.search_entries(queryset, search.query_tokens(value))


def search_results(params):
    """The filter, the words and the matching entries: best match first, then newest."""
    filterset = PublicSearchFilter(params, queryset=PublicReplySearch.objects.all())
    words = []
    if filterset.is_valid():
        words = search.query_tokens(filterset.form.cleaned_data.get("q") or "")
    if not words:
        return filterset, words, PublicReplySearch.objects.none()
    qs = filterset.qs.only("letter_id", "published_at").order_by(
        "-search_rank", "-published_at", "-letter_id"
    )
    return filterset, words, qs


Entry = namedtuple("Entry", "search_rank published_at letter_id")


def counted_page(qs, number, count_key):
    """Page `number` of the entries `qs` (search_results), with their exact count: from the
    cache, or on PostgreSQL from the scan that finds the page's entries.

    Counting the matches of a common word reads the entries' rows as ranking them does (梁山街
    道: 5,500 rows on 4,000 pages); once, not twice, is 8 ms of 25.
    """
    paginator = Paginator(qs, PAGE_SIZE)
    count = cache.get(count_key)
    if count is None and search.is_postgresql(qs.db):
        try:
            wanted = max(int(number or 1), 1)
        except ValueError:
            wanted = 1
        entries, count = _page_and_count(qs, (wanted - 1) * PAGE_SIZE, PAGE_SIZE)
        if entries:
            cache.set(count_key, count, COUNT_CACHE_SECONDS)
            paginator.count = count
            return Page(entries, wanted, paginator)
    if count is None:
        count = qs.count()
        cache.set(count_key, count, COUNT_CACHE_SECONDS)
    paginator.count = count
    return paginator.get_page(number)


def _page_and_count(qs, offset, limit):
    """([Entry] at `offset`, how many there are in all); ([], None) past the end."""
    entries = qs.order_by().values_list(*Entry._fields)
    sql, params = entries.query.sql_with_params()
    columns = ", ".join(Entry._fields)
    order = ", ".join(f"{name} DESC" for name in Entry._fields)  # search_results' order
    with connections[qs.db].cursor() as cursor:
        cursor.execute(
            f"WITH entries AS MATERIALIZED ({sql}) SELECT {columns}, "
            f"(SELECT count(*) FROM entries) FROM entries ORDER BY {order} LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        rows = cursor.fetchall()
    if not rows:
        return [], None
    return [Entry(*row[:3]) for row in rows], rows[0][3]


@dataclass
class Found:
    """A search result: what its row shows (templates/public/search.html)."""

    pk: int
    published_at: datetime.datetime
    public_title: str
    text: str
    proposal_title: str
    proposal_number: int
    unit_short_name: str

    def get_public_url(self):
        return reverse("public:reply", args=[self.pk])


def letters_of(entries):
    """The public letters of a page of entries, in its order: the current publication's title
    and text, the proposal's title and number, the unit (one query, no model instances)."""
    ids = [e.letter_id for e in entries]
    found = {
        row[0]: Found(*row)
        for row in public_letters()
        .filter(pk__in=ids)
        .order_by()
        .annotate(t=latest_publication("title"), x=latest_publication("text"))
        .values_list(
            "pk",
            "published_at",
            "t",
            "x",
            "assignment__proposal__title",
            "assignment__proposal__number",
            "assignment__unit__short_name",
        )
    }
    return [found[pk] for pk in ids if pk in found]


def marked_rows(rows, words):
    """For the rows shown (`letters_of`): the title, the proposal's title and an excerpt of the
    text, the words marked."""
    for row in rows:
        row.title_marked = search.highlight(row.public_title, words)
        row.proposal_title_marked = search.highlight(row.proposal_title, words)
        row.excerpt = search.excerpt(row.text, words)
    return rows


def search_version(request):
    return _digest(column_version(request), search.dictionary_version())


@require_safe
@condition(
    etag_func=lambda request: _digest("search", search_version(request), request.GET.urlencode())
)
def search_page(request):
    """全文检索: the published replies containing every word searched, with the filters."""
    filterset, words, qs = search_results(request.GET)
    query = request.GET.copy()
    query.pop("page", None)
    if words:
        count_key = "public-search-count:" + _digest(search_version(request), query.urlencode())
        page = counted_page(qs, request.GET.get("page"), count_key)
    else:
        page = Paginator(qs, PAGE_SIZE).get_page(None)
    page.object_list = marked_rows(letters_of(page.object_list), words)
    context = {
        "filter": filterset,
        "page": page,
        "words": words,
        "searched": bool(request.GET.get("q", "").strip()),
        "query": query.urlencode(),
        **site_context(),
    }
    return render(request, "public/search.html", context)
