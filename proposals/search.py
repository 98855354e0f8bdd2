"""Chinese full-text search: segmentation, the search columns, queries, ranking, highlighting.

Text is folded first (full-width → half-width by NFKC, traditional → simplified as zhconv
converts: `simplified`, lower case), then cut as jieba cuts in search mode (every dictionary
word inside a longer one too: 国家级高新区 → 国家 国家级 高新 新区 高新区; `segment`: jieba's
Tokenizer, its dictionary kept in the memory every web worker can afford), with the committee's unit
names and the words administrators add (`SearchWord`) as a user dictionary. The tokens, joined
by spaces, are kept in two text columns per searchable row (`search_title`, weighted first,
and `search_text`); on PostgreSQL a stored generated column `search_vector` (a tsvector with
the 'simple' configuration over them, GIN-indexed) is what queries read, so every write of the
token columns — a save, COPY, an UPDATE — keeps the vector current.

A query is folded the same way and cut in jieba's precise mode (a subset of what search mode
gives the text), and every token must match (AND). On SQLite each token is looked for in the
token columns with LIKE: simpler, enough for a district's hundreds of rows.

The rows: proposals (staff search: title, number, reasons, suggestions, proposer names and the
sent replies' text; see `proposal_documents`; best first: `Ranked`) and, in `replies.search`,
each public letter's published version (public search).
"""

import functools
import hashlib
import re
import threading
import unicodedata

from django.core.cache import cache
from django.db import connection, connections
from django.db.models import BooleanField, F, FloatField, Func, Q, Value
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import segment
from .simplified import simplified

# Named after the segmenter's version: after an upgrade that changes the cut, every process
# (and every page cached under the version) starts anew.
DICTIONARY_KEY = f"search-dictionary-version:{segment.VERSION}"
# Runs of word characters: what jieba cuts one by one (punctuation and spaces end a run).
CHUNK = re.compile(r"[^\W_]+")
NUMBER_FORM = re.compile(r"第\s*0*(\d+)\s*号")
MAX_QUERY_TOKENS = 12
MAX_QUERY_LENGTH = 100


# --- folding and cutting ----------------------------------------------------------------------


def fold(text):
    """Half-width, simplified, lower-case: the form both text and queries are compared in."""
    if not text:
        return ""
    return simplified(unicodedata.normalize("NFKC", text)).lower()


# The caches below are per process, so bounded by what a web worker can hold: an entry of
# `_cut_for_search` (a run of text and its tokens) is about 1 KB: 200,000 could take 200 MB.
@functools.lru_cache(maxsize=8192)
def _fold_char(char):
    folded = fold(char)
    return folded if len(folded) == 1 else char


def _number(token):
    # 069 and 69 are one number.
    return token.lstrip("0") or "0" if token.isdigit() else token


@functools.lru_cache(maxsize=4096)
def _cut_for_search(chunk):
    return tuple(
        _number(t) for t in segment.segmenter().cut_for_search(chunk, HMM=False) if t.strip()
    )


@functools.lru_cache(maxsize=1024)
def _cut(chunk):
    return tuple(_number(t) for t in segment.segmenter().cut(chunk, HMM=False) if t.strip())


def tokens(text):
    """The text's tokens in search mode, in order (repeats kept: they weigh in the ranking)."""
    ensure_dictionary()
    out = []
    for chunk in CHUNK.findall(fold(text)):
        out.extend(_cut_for_search(chunk))
    return out


def document(*parts):
    """The token column's value for some texts."""
    return " ".join(token for part in parts if part for token in tokens(part))


def query_tokens(query):
    """The tokens a query must all match: folded, 第69号 read as 69, cut in precise mode."""
    ensure_dictionary()
    folded = NUMBER_FORM.sub(r" \1 ", fold((query or "")[:MAX_QUERY_LENGTH]))
    seen = []
    for chunk in CHUNK.findall(folded):
        for token in _cut(chunk):
            if token not in seen:
                seen.append(token)
    return seen[:MAX_QUERY_TOKENS]


# --- the user dictionary ----------------------------------------------------------------------


class _Dictionary:
    lock = threading.Lock()
    version = None  # the version this process loaded
    words = frozenset()


def dictionary_words():
    """Unit names and short names, and the words administrators added."""
    from accounts.models import Unit

    from .models import SearchWord

    words = set()
    for name, short in Unit.objects.values_list("name", "short_name"):
        words.update(w for w in (name, short) if w)
    words.update(SearchWord.objects.values_list("word", flat=True))
    return {fold(w).strip() for w in words if w and len(w.strip()) > 1}


def _apply(words):
    segment.segmenter().set_added(words)
    _Dictionary.words = frozenset(words)
    _cut_for_search.cache_clear()
    _cut.cache_clear()


def ensure_dictionary():
    """Load the user dictionary in this process, again whenever another process changed it.

    The version is kept in the shared cache and set anew by `dictionary_changed`; a missing
    key (cache cleared) keeps what this process loaded.
    """
    wanted = cache.get(DICTIONARY_KEY)
    if _Dictionary.version is not None and (wanted is None or wanted == _Dictionary.version):
        return
    with _Dictionary.lock:
        words = dictionary_words()
        _apply(words)
        key = "|".join([segment.VERSION, *sorted(words)])
        version = wanted or hashlib.sha256(key.encode()).hexdigest()[:16]
        _Dictionary.version = version
        if wanted is None:
            cache.set(DICTIONARY_KEY, version, None)


def dictionary_changed():
    """A unit name or a search word changed: every process reloads before it cuts again.

    The text already indexed keeps its tokens until `manage.py reindex_search` runs.
    """
    import uuid

    cache.set(DICTIONARY_KEY, uuid.uuid4().hex[:16], None)


def dictionary_version():
    ensure_dictionary()
    return _Dictionary.version


# --- queries ----------------------------------------------------------------------------------


def is_postgresql(using=None):
    from django.db import connections

    return (connections[using] if using else connection).vendor == "postgresql"


def _lexeme(word):
    return "'" + word.replace("'", "''").replace("\\", "") + "'"


def _alternatives(word):
    """A query word, or the smaller words jieba finds inside it, all present.

    The text was cut in context: 食品安全监管 is 食品 / 安全监管 (search mode adds 安全 and
    监管), so the query's 食品安全 is not among its tokens, but 食品 and 安全 are.
    """
    parts = [p for p in _cut_for_search(word) if p != word] if len(word) > 2 else []
    if not parts:
        return _lexeme(word)
    return f"({_lexeme(word)} | ({' & '.join(_lexeme(p) for p in parts)}))"


def tsquery(words, operator="&"):
    """A to_tsquery string: every word (`&`) or any word (`|`)."""
    if operator == "|":
        return " | ".join(_lexeme(w) for w in words)
    return " & ".join(_alternatives(w) for w in words)


def _like_word(word, prefix=""):
    def has(w):
        return Q(**{f"{prefix}search_title__contains": w}) | Q(
            **{f"{prefix}search_text__contains": w}
        )

    parts = [p for p in _cut_for_search(word) if p != word] if len(word) > 2 else []
    condition = has(word)
    if parts:
        every = Q()
        for part in parts:
            every &= has(part)
        condition |= every
    return condition


def _rank_sql(table, words):
    # The title's share of the query words: titles holding them first.
    return f"ts_rank({table}.title_vector, to_tsquery('simple', %s))", [tsquery(words, "|")]


def search_entries(entries, words, rank=True):
    """Search entries (ProposalSearch, PublicReplySearch) holding every word, with
    `search_rank` when `rank`."""
    if not words:
        return entries.none()
    if is_postgresql(entries.db):
        table = f'"{entries.model._meta.db_table}"'
        entries = entries.extra(
            where=[f"{table}.search_vector @@ to_tsquery('simple', %s)"], params=[tsquery(words)]
        )
        if rank:
            sql, params = _rank_sql(table, words)
            entries = entries.annotate(search_rank=RawSQL(sql, params, output_field=FloatField()))
        return entries
    for word in words:
        entries = entries.filter(_like_word(word))
    if rank:
        entries = entries.annotate(search_rank=_like_rank(words))
    return entries


def _like_rank(words):
    from django.db.models import Case, IntegerField, When

    score = Value(0)
    for word in words:
        score = score + Case(
            When(search_title__contains=word, then=1),
            default=0,
            output_field=IntegerField(),
        )
    return score * 1.0 + Value(0.0, output_field=FloatField())


class _AnyOf(Func):
    """`value = ANY(array)` (PostgreSQL)."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def _among(queryset, ids):
    """The rows of `queryset` whose id is one of `ids` (one array parameter on PostgreSQL)."""
    if is_postgresql(queryset.db):
        return queryset.filter(_AnyOf(F("pk"), RawSQL("%s::bigint[]", [list(ids)])))
    return queryset.filter(pk__in=list(ids))


def search(queryset, query):
    """The proposals of `queryset` whose search entry holds every query token (unordered: see
    `Ranked` for the best first). An empty or unsearchable query matches nothing."""
    from .models import ProposalSearch

    words = query_tokens(query)
    if not words:
        return queryset.none()
    if is_postgresql(queryset.db):
        # Raw: Django would alias the table inside the subquery, and the condition names it.
        table = ProposalSearch._meta.db_table
        # `id = ANY(ARRAY(subquery))`, not `id IN (subquery)`: the matches are found once
        # (the GIN index) before the proposals are read. With IN, the planner may walk the
        # proposals in id order testing each search vector instead — for the paginator's
        # capped count (LIMIT 1001) it did: 16,000 vectors read to find 1,001 rows.
        return queryset.filter(
            _AnyOf(
                F("pk"),
                RawSQL(
                    f"ARRAY(SELECT proposal_id FROM {table} "
                    f"WHERE search_vector @@ to_tsquery('simple', %s))",
                    [tsquery(words)],
                ),
            )
        )
    for word in words:
        queryset = queryset.filter(_like_word(word, "search_entry__"))
    return queryset


class Ranked:
    """The proposals of `queryset` whose search entry holds every word, best first — the
    title's share of the words, then newest — as a paginator pages them.

    Ranked in the narrow search table alone (`candidates`, which holds the proposals' creation
    time for that); the proposals' own conditions (what the user may see, the other filters)
    are then checked on the candidates in that order, a growing batch at a time, until the page
    is full. So a word in 6,000 of 100,000 proposals costs one read of their entries and a few
    dozen proposals, where ranking the proposals that match (a rank subquery for each, then
    the sort) read all 6,000: 80 ms. A word in nearly every proposal (建议) still ranks them
    all: about a second at 100,000, against three before.

    Counted as `EstimatingPaginator` counts (`paginator_count`): exactly up to its limit;
    beyond, the matches times the share of an even sample of them that the conditions leave.
    """

    SAMPLE = 200
    FIRST_BATCH = 50

    def __init__(self, queryset, words):
        self.queryset = queryset.order_by()
        self.words = words
        self._kept_ids = []  # the candidates checked and kept, best first
        self._checked = 0

    def _entries(self):
        from .models import ProposalSearch

        return search_entries(ProposalSearch.objects.using(self.queryset.db), self.words)

    @cached_property
    def candidates(self):
        """The ids of the proposals whose entry holds every word, best first."""
        entries = self._entries()
        if not is_postgresql(entries.db):
            entries = entries.order_by("-search_rank", "-created_at", "-proposal_id")
            return list(entries.values_list("proposal_id", flat=True))
        # One array, not a row a candidate: thousands of rows cost as much to convert as to
        # find, and the garbage collector then walked the whole heap now and then (80 ms).
        sql, params = entries.values_list(
            "proposal_id", "created_at", "search_rank"
        ).query.sql_with_params()
        with connections[entries.db].cursor() as cursor:
            cursor.execute(
                "SELECT array_agg(proposal_id ORDER BY search_rank DESC, created_at DESC, "
                f"proposal_id DESC) FROM ({sql}) entries",
                params,
            )
            return cursor.fetchone()[0] or []

    def _kept(self, ids):
        return set(_among(self.queryset, ids).values_list("pk", flat=True))

    def _check(self, batch):
        kept = self._kept(batch)
        self._kept_ids.extend(pk for pk in batch if pk in kept)
        self._checked += len(batch)

    def paginator_count(self, exact_limit):
        """(count, whether it is an estimate)."""
        candidates = self.candidates
        if len(candidates) > exact_limit:
            sample = candidates[:: -(-len(candidates) // self.SAMPLE)]
            estimate = round(len(self._kept(sample)) / len(sample) * len(candidates))
            if estimate > exact_limit:
                return estimate, True
        # Few enough to count: all checked at once, and the pages need no more queries.
        self._check(candidates[self._checked :])
        return len(self._kept_ids), False

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        start, stop = key.start or 0, key.stop
        candidates = self.candidates
        while len(self._kept_ids) < stop and self._checked < len(candidates):
            size = max(self.FIRST_BATCH, 2 * stop, self._checked)  # doubling
            self._check(candidates[self._checked : self._checked + size])
        page = self._kept_ids[start:stop]
        rows = _among(self.queryset, page).in_bulk()
        return [rows[pk] for pk in page if pk in rows]  # unless deleted meanwhile


# --- highlighting -----------------------------------------------------------------------------


def _folded_with_map(text):
    # Character by character, so that positions in the folded text are positions in the text.
    return "".join(map(_fold_char, text))


def _spans(folded, words):
    spans = []
    for word in sorted(set(words), key=len, reverse=True):
        start = folded.find(word)
        while start != -1:
            spans.append((start, start + len(word)))
            start = folded.find(word, start + len(word))
    spans.sort()
    merged = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _marked(text, spans, offset=0, end=None):
    end = len(text) if end is None else end
    out, pos = [], offset
    for start, stop in spans:
        if stop <= offset or start >= end:
            continue
        start, stop = max(start, offset), min(stop, end)
        out.append(escape(text[pos:start]))
        out.append(f"<mark>{escape(text[start:stop])}</mark>")
        pos = stop
    out.append(escape(text[pos:end]))
    return "".join(out)


def highlight(text, words):
    """The text, escaped, with the query's words marked."""
    text = text or ""
    words = [w for w in words if w]
    return mark_safe(_marked(text, _spans(_folded_with_map(text), words)))


def excerpt(text, words, length=120):
    """About `length` characters of the text around the first match, escaped and marked."""
    text = re.sub(r"\s+", " ", text or "").strip()
    words = [w for w in words if w]
    spans = _spans(_folded_with_map(text), words)
    if not spans:
        return mark_safe(escape(text[:length]) + ("…" if len(text) > length else ""))
    start = max(0, spans[0][0] - length // 4)
    end = min(len(text), start + length)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + _marked(text, spans, start, end) + suffix)


# --- proposals' search columns ----------------------------------------------------------------

PROPOSAL_SOURCES = frozenset({"title", "reasons", "suggestions", "number", "session"})


def number_forms(number):
    return f"{number} 第{number}号" if number else ""


def proposal_documents(proposal_ids):
    """{proposal id: its search entry's values}, from the rows as they are in the database."""
    from . import hooks
    from .models import Proposal, ProposalProposer

    proposal_ids = list(proposal_ids)
    names = {}
    for pid, name in (
        ProposalProposer.objects.filter(proposal_id__in=proposal_ids)
        .order_by("proposal_id", "position")
        .values_list("proposal_id", "proposer__name")
    ):
        names.setdefault(pid, []).append(name)
    extra = {}
    for texts in hooks.call("search_texts", proposal_ids):
        for pid, more in texts.items():
            extra.setdefault(pid, []).extend(more)
    docs = {}
    for pid, session_id, created_at, title, number, reasons, suggestions in Proposal.objects.filter(
        pk__in=proposal_ids
    ).values_list("pk", "session_id", "created_at", "title", "number", "reasons", "suggestions"):
        docs[pid] = {
            "session_id": session_id,
            "created_at": created_at,
            "search_title": document(number_forms(number), title),
            "search_text": document(
                " ".join(names.get(pid, [])), reasons, suggestions, *extra.get(pid, [])
            ),
        }
    return docs


def write_entries(model, key, docs):
    """Upsert the search entries {key value: values, or None for no entry} in one statement
    (and delete those that are None in another)."""
    gone = [pk for pk, values in docs.items() if values is None]
    if gone:
        model.objects.filter(pk__in=gone).delete()
    rows = [model(**{f"{key}_id": pk}, **values) for pk, values in docs.items() if values]
    if rows:
        fields = list(next(v for v in docs.values() if v))
        model.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=[key],
            update_fields=[f.removesuffix("_id") for f in fields],
        )


def reindex_proposals(proposal_ids):
    """Write the search entries of these proposals."""
    from .models import ProposalSearch

    write_entries(ProposalSearch, "proposal", proposal_documents(proposal_ids))
