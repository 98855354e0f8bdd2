"""Keep the search columns current on every save (proposals/search.py)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Unit

from . import search
from .models import Proposal, ProposalProposer, SearchWord


@receiver(post_save, sender=Proposal, dispatch_uid="search_proposal_saved")
def proposal_saved(sender, instance, update_fields=None, raw=False, **kwargs):
    if raw:
        return
    if update_fields is None or search.PROPOSAL_SOURCES & set(update_fields):
        search.reindex_proposals([instance.pk])


@receiver(post_save, sender=ProposalProposer, dispatch_uid="search_proposer_listed")
@receiver(post_delete, sender=ProposalProposer, dispatch_uid="search_proposer_unlisted")
def proposer_listed(sender, instance, raw=False, **kwargs):
    if not raw:
        search.reindex_proposals([instance.proposal_id])


@receiver(post_save, sender=SearchWord, dispatch_uid="search_word_saved")
@receiver(post_delete, sender=SearchWord, dispatch_uid="search_word_deleted")
@receiver(post_save, sender=Unit, dispatch_uid="search_unit_saved")
@receiver(post_delete, sender=Unit, dispatch_uid="search_unit_deleted")
def dictionary_changed(sender, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if (
        sender is Unit
        and update_fields is not None
        and not {"name", "short_name"} & set(update_fields)
    ):
        return
    search.dictionary_changed()
