"""`manage.py reindex_search`: rewrite every search entry (proposals and public letters).

Run after the search dictionary changed (SearchWord, unit names) and after loading rows
outside the workflow; `generate_data` and `load_demo` run it for the rows they write. Works in
batches of one upsert each; on PostgreSQL the tsvector columns follow by themselves.
"""

import time
from contextlib import contextmanager

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from proposals import search
from proposals.models import Proposal, ProposalSearch
from replies import public_cache
from replies.models import PublicReplySearch, ReplyLetter
from replies.search import letter_documents


def reindex(ids, documents, model, key, batch, out):
    started = time.monotonic()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with transaction.atomic():
            search.write_entries(model, key, documents(chunk))
        if (start // batch) % 10 == 9:
            out(f"  {start + len(chunk)}/{len(ids)} ({time.monotonic() - started:.1f} s)")
    return len(ids), time.monotonic() - started


# Rewriting many rows: the GIN index is built once at the end rather than row by row.
GIN_INDEXES = {ProposalSearch: "proposal_search", PublicReplySearch: "public_reply_search"}
MANY = 10_000


@contextmanager
def index_built_after(model, count):
    if connection.vendor != "postgresql" or count < MANY:
        yield
        return
    table, name = model._meta.db_table, GIN_INDEXES[model]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (search_vector)"
            )
            cursor.execute(f"ANALYZE {table}")


def reindex_all(batch, out):
    search.ensure_dictionary()
    ids = list(Proposal.objects.order_by("pk").values_list("pk", flat=True))
    with index_built_after(ProposalSearch, len(ids)):
        n, took = reindex(ids, search.proposal_documents, ProposalSearch, "proposal", batch, out)
    out(f"Search entries: {n} proposals in {took:.1f} s")
    # Letters no longer public lose their entries; the public ones get theirs anew.
    PublicReplySearch.objects.exclude(letter__is_public=True).delete()
    ids = list(
        ReplyLetter.objects.filter(is_public=True).order_by("pk").values_list("pk", flat=True)
    )
    with index_built_after(PublicReplySearch, len(ids)):
        n, took = reindex(ids, letter_documents, PublicReplySearch, "letter", batch, out)
    out(f"Search entries: {n} public reply letters in {took:.1f} s")
    public_cache.public_column_changed()


class Command(BaseCommand):
    help = "Rewrite the search entries of every proposal and public reply letter."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, **options):
        reindex_all(options["batch_size"], self.stdout.write)
