"""`manage.py reindex_search`: rewrite every search entry (proposals and public letters).

Run after the search dictionary changed (SearchWord, unit names) and after loading rows
outside the workflow; `generate_data` and `load_demo` run it for the rows they write. Works in
batches of one upsert each; on PostgreSQL the tsvector columns follow by themselves.
"""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

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


def reindex_all(batch, out):
    search.ensure_dictionary()
    ids = list(Proposal.objects.order_by("pk").values_list("pk", flat=True))
    n, took = reindex(ids, search.proposal_documents, ProposalSearch, "proposal", batch, out)
    out(f"Search entries: {n} proposals in {took:.1f} s")
    # Letters no longer public lose their entries; the public ones get theirs anew.
    PublicReplySearch.objects.exclude(letter__is_public=True).delete()
    ids = list(
        ReplyLetter.objects.filter(is_public=True).order_by("pk").values_list("pk", flat=True)
    )
    n, took = reindex(ids, letter_documents, PublicReplySearch, "letter", batch, out)
    out(f"Search entries: {n} public reply letters in {took:.1f} s")
    public_cache.public_column_changed()


class Command(BaseCommand):
    help = "Rewrite the search entries of every proposal and public reply letter."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, **options):
        reindex_all(options["batch_size"], self.stdout.write)
