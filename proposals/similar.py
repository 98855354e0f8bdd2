"""Similar proposals, from the same search columns (proposals/search.py).

- `similar_proposals(proposal)`: the proposals of the same session closest to it — the
  candidates for 并案 on the review page;
- `suggested_units(proposal)`: the units that led the handling of the closest proposals of
  past sessions, with those proposals — on the assignment page.

The words compared are the proposal's title words without the ones every title has (关于,
建议, 加快…). On PostgreSQL the candidates are the rows whose search vector holds any of them,
ranked by ts_rank (title words weigh most); on SQLite the same in Python over the token
columns.
"""

import itertools

from django.db.models import FloatField
from django.db.models.expressions import RawSQL

from . import search
from .models import Assignment, Proposal, ProposalSearch

# Words in nearly every title: they say nothing about what a proposal is about.
COMMON = frozenset(
    [
        "关于",
        "建议",
        "的",
        "和",
        "与",
        "及",
        "进一步",
        "加快",
        "加快推进",
        "推进",
        "加强",
        "大力",
        "发展",
        "切实",
        "解决",
        "完善",
        "优化",
        "提升",
        "规范",
        "支持",
        "促进",
        "推动",
        "深化",
        "做好",
        "工作",
        "问题",
        "我区",
        "全区",
        "提案",
        "有关",
    ]
)
NOT_CANDIDATES = [
    Proposal.State.DRAFT,
    Proposal.State.AWAITING_COSIGNERS,
    Proposal.State.WITHDRAWN,
]
HANDLED = [
    Proposal.State.ASSIGNED,
    Proposal.State.HANDLING,
    Proposal.State.REPLIED,
    Proposal.State.CLOSED,
]


MAX_WORDS = 5


def key_words(proposal, most=MAX_WORDS):
    """The title's telling words, the longest (most specific) first, at most `most`."""
    words = [w for w in search.query_tokens(proposal.title) if w not in COMMON and len(w) > 1]
    words = words or [w for w in search.query_tokens(proposal.title) if w not in COMMON]
    return sorted(words, key=len, reverse=True)[:most]


def _ranked_pg(entries, match, rank, limit):
    table = f'"{entries.model._meta.db_table}"'
    return list(
        entries.extra(where=[f"{table}.search_vector @@ to_tsquery('simple', %s)"], params=[match])
        .annotate(
            similarity=RawSQL(
                f"ts_rank({table}.title_vector, to_tsquery('simple', %s))",
                [rank],
                output_field=FloatField(),
            )
        )
        .order_by("-similarity", "-proposal_id")
        .values_list("proposal_id", "similarity")[:limit]
    )


def ranked(entries, words, limit, most_words_first=False):
    """[(proposal id, similarity)] of the entries holding any of the words, best first.

    `most_words_first`: on PostgreSQL, rank first only the entries holding all the words;
    if they are fewer than `limit`, those holding all but one; and so on. The rank is over
    the title's words, and a title holding more of them ranks higher, so the best are
    among the first entries ranked. A common word is in tens of thousands of rows of past
    sessions: ranking them all took most of the assignment page's time.
    """
    if not words:
        return []
    if search.is_postgresql(entries.db):
        rank = search.tsquery(words, "|")
        if most_words_first:
            for k in range(len(words), 1, -1):
                match = " | ".join(
                    "(" + " & ".join(search._lexeme(w) for w in some) + ")"
                    for some in itertools.combinations(words, k)
                )
                best = _ranked_pg(entries, match, rank, limit)
                if len(best) >= limit:
                    return best
        # Matched on everything (the GIN index), ranked by the title's words.
        return _ranked_pg(entries, rank, rank, limit)
    scored = []
    for pid, title, text in entries.values_list("proposal_id", "search_title", "search_text"):
        title, text = set(title.split()), set(text.split())
        score = sum(3 for w in words if w in title) + sum(1 for w in words if w in text)
        if score:
            scored.append((pid, score / (3 * len(words))))
    scored.sort(key=lambda r: (-r[1], -r[0]))
    return scored[:limit]


def _proposals(scored, states=None, exclude_states=None, limit=None):
    """The proposals of [(id, score)], in that order, kept or left out by state."""
    proposals = Proposal.objects.select_related("session__term").defer(
        "reasons", "suggestions", "review_comment"
    )
    if states is not None:
        proposals = proposals.filter(state__in=states)
    if exclude_states is not None:
        proposals = proposals.exclude(state__in=exclude_states)
    by_pk = proposals.in_bulk([pid for pid, _score in scored])
    out = []
    for pid, score in scored:
        if pid in by_pk:
            by_pk[pid].similarity = score
            out.append(by_pk[pid])
    return out[:limit] if limit else out


def similar_proposals(proposal, limit=5):
    """The same session's proposals most like this one (并案 candidates), best first."""
    # The narrow table alone (no join); drafts and withdrawn ones are left out afterwards.
    entries = ProposalSearch.objects.filter(session_id=proposal.session_id).exclude(
        proposal_id=proposal.pk
    )
    scored = ranked(entries, key_words(proposal), limit * 4)
    return _proposals(scored, exclude_states=NOT_CANDIDATES, limit=limit)


def suggested_units(proposal, limit=3, proposals_each=3, pool=40):
    """[(unit, [similar past proposals it led])] for the units that led the most similar
    proposals of past sessions, most likely first."""
    entries = ProposalSearch.objects.exclude(session_id=proposal.session_id)
    # Over every past session: the three most specific words keep the candidates few.
    scored = ranked(entries, key_words(proposal, 3), pool * 2, most_words_first=True)
    similar = _proposals(scored, states=HANDLED, limit=pool)
    if not similar:
        return []
    by_pk = {p.pk: p for p in similar}
    leads = (
        Assignment.objects.filter(
            proposal_id__in=list(by_pk), role__in=["lead", "split"], is_active=True
        )
        .select_related("unit")
        .order_by("proposal_id", "id")
    )
    units = {}
    for a in leads:
        entry = units.setdefault(a.unit_id, {"unit": a.unit, "score": 0.0, "proposals": []})
        entry["score"] += by_pk[a.proposal_id].similarity
        entry["proposals"].append(by_pk[a.proposal_id])
    best = sorted(units.values(), key=lambda e: (-e["score"], e["unit"].name))[:limit]
    for entry in best:
        entry["proposals"] = sorted(entry["proposals"], key=lambda p: -p.similarity)[
            :proposals_each
        ]
    return [(e["unit"], e["proposals"]) for e in best]
