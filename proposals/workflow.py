"""What the proposal and reply workflows share: the audit record and who to tell.

`replies` builds on `proposals`, never the other way round; both write their audit
events and find their recipients here.
"""

from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.notifications import notify, notify_contact
from core import pagecache
from core.workflow import Refused

from .models import Event, ProposalProposer

__all__ = [
    "Refused",
    "committee_people",
    "proposer_users",
    "record_event",
    "tell_proposers",
    "unit_people",
    "with_comment",
]


def record_event(
    proposal, actor, verb, from_state="", to_state="", comment="", obj=None, actor_name=""
):
    """One append-only audit row: who, when, what, from which state to which, and why.

    `actor` is the logged-in user; someone without a login (a proposer answering through
    their personal link) is named by `actor_name` instead.
    """
    user = actor if actor is not None and actor.is_authenticated else None
    pagecache.changed()
    return Event.objects.create(
        proposal=proposal,
        actor=user,
        actor_name=actor_name or (user.get_full_name() if user is not None else ""),
        verb=verb,
        from_state=from_state,
        to_state=to_state,
        comment=comment or "",
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
    )


def unit_people(units, role=None):
    memberships = Membership.objects.filter(unit__in=units, user__is_active=True)
    if role:
        memberships = memberships.filter(role=role)
    return User.objects.filter(pk__in=memberships.values("user_id"))


def committee_people():
    return User.objects.filter(is_committee_staff=True, is_active=True)


def proposer_users(proposal):
    """The proposers' accounts; a co-signer who declined is no longer one of them."""
    entries = ProposalProposer.objects.filter(proposal=proposal).exclude(
        status=ProposalProposer.Status.DECLINED
    )
    return User.objects.filter(proposer__listings__in=entries, is_active=True).distinct()


def tell_proposers(proposal, verb, message):
    url = proposal.get_absolute_url()
    notify(proposer_users(proposal), verb, message, url)
    entries = proposal.proposer_list.exclude(status=ProposalProposer.Status.DECLINED)
    for entry in entries.select_related("proposer"):
        if entry.proposer.user_id is None:
            notify_contact(email=entry.proposer.email, message=message, url=url)


def with_comment(message, comment):
    if comment:
        return _("%(message)s Comment: %(comment)s") % {"message": message, "comment": comment}
    return message
