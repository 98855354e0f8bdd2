"""The public search columns of reply letters, and the letters' text in the proposals' columns.

A public letter's entry (`PublicReplySearch`) holds the segmented title and text of the
version on the public site (its current publication) with the proposal's number and title and
the issuing unit's name, and what the public search filters by; a letter not public has no
entry, so the public search never finds anything else. Entries are rewritten by
`letter_changed`, which the workflow calls
at each step that changes what the public sees (publish, a correction, unpublishing) and when
a letter is sent; `manage.py reindex_search` rewrites them all.

The proposal's staff search reads the text of its sent replies (hook `search_texts`).
"""

from django.db.models import OuterRef, Subquery

from proposals import hooks
from proposals import search as core

from .models import Publication, PublicReplySearch, ReplyLetter

SENT_STATES = (
    ReplyLetter.State.SENT,
    ReplyLetter.State.PUBLISHED,
    ReplyLetter.State.UNPUBLISHED,
)


@hooks.register("search_texts")
def sent_reply_texts(proposal_ids):
    """{proposal id: the titles and bodies of its sent replies}."""
    texts = {}
    for pid, title, body in (
        ReplyLetter.objects.filter(assignment__proposal_id__in=proposal_ids, state__in=SENT_STATES)
        .order_by("assignment__proposal_id", "id")
        .values_list("assignment__proposal_id", "title", "body")
    ):
        texts.setdefault(pid, []).append(f"{title}\n{body}")
    return texts


def _current(field):
    latest = Publication.objects.filter(letter=OuterRef("pk"), ended_at__isnull=True).order_by(
        "-version"
    )
    return Subquery(latest.values(field)[:1])


def letter_documents(letter_ids):
    """{letter id: its public search entry's values, or None when it is not public}."""
    rows = (
        ReplyLetter.objects.filter(pk__in=list(letter_ids))
        .annotate(pub_title=_current("title"), pub_text=_current("text"))
        .values_list(
            "pk",
            "is_public",
            "disclosure",
            "pub_title",
            "pub_text",
            "published_at",
            "result_class",
            "assignment__unit_id",
            "assignment__proposal__session_id",
            "assignment__proposal__category_id",
            "assignment__proposal__number",
            "assignment__proposal__title",
            "assignment__unit__name",
            "assignment__unit__short_name",
        )
    )
    docs = {}
    for row in rows:
        (pk, public, disclosure, title, text, published_at, result_class, unit_id) = row[:8]
        session_id, category_id, number, p_title, unit, short = row[8:]
        if (
            not public
            or disclosure == ReplyLetter.Disclosure.NONE
            or title is None
            or published_at is None
        ):
            docs[pk] = None
            continue
        docs[pk] = {
            "session_id": session_id,
            "unit_id": unit_id,
            "category_id": category_id,
            "result_class": result_class,
            "published_at": published_at,
            "search_title": core.document(core.number_forms(number), title, p_title),
            "search_text": core.document(text, unit, short),
        }
    return docs


def reindex_letters(letter_ids):
    core.write_entries(PublicReplySearch, "letter", letter_documents(letter_ids))


def letter_changed(letter):
    """The letter's public text or its state changed: its entry and its proposal's anew."""
    reindex_letters([letter.pk])
    core.reindex_proposals([letter.assignment.proposal_id])
