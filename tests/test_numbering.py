"""立案 numbers: the next in the session, never repeated and never skipped, also at the same moment."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from core.workflow import Refused
from proposals import services
from proposals.models import Proposal, ProposalProposer, Session

State = Proposal.State
THREADS = 8


def make_submitted(world, count, session=None):
    proposals = [
        Proposal.objects.create(
            session=session or world.session,
            title=f"关于第{i}项工作的建议",
            reasons="理由",
            suggestions="建议",
            state=State.SUBMITTED,
        )
        for i in range(count)
    ]
    ProposalProposer.objects.bulk_create(
        ProposalProposer(proposal=p, proposer=world.zhanghua_proposer, position=0)
        for p in proposals
    )
    return proposals


def numbers(session):
    return list(
        Proposal.objects.filter(session=session, number__isnull=False)
        .order_by("number")
        .values_list("number", flat=True)
    )


def test_acceptance_continues_after_the_highest_number_of_the_session(world):
    for proposal in make_submitted(world, 5):
        services.accept(proposal, world.tiwei)
    assert numbers(world.session) == [69, 70, 71, 72, 73, 74]


def test_each_session_counts_from_one(world):
    second = Session.objects.create(term=world.term, number=2)
    [proposal] = make_submitted(world, 1, session=second)
    assert services.accept(proposal, world.tiwei).display_number == "第001号"


def test_a_refused_acceptance_uses_up_no_number(world):
    withdrawn, good = make_submitted(world, 2)
    Proposal.objects.filter(pk=withdrawn.pk).update(state=State.WITHDRAWN)
    with pytest.raises(Refused):
        services.accept(withdrawn, world.tiwei)
    assert services.accept(good, world.tiwei).number == 70


def accept_all_at_once(proposals, actor):
    """Accept `proposals` from THREADS threads released together; each uses its own connection."""
    start = threading.Barrier(THREADS)
    chunks = [proposals[i::THREADS] for i in range(THREADS)]

    def work(chunk):
        try:
            start.wait()
            for proposal in chunk:
                services.accept(proposal, actor)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        # .result() re-raises a failure inside a thread here.
        for future in [pool.submit(work, chunk) for chunk in chunks]:
            future.result()


@pytest.mark.django_db(transaction=True)
def test_staff_accepting_at_the_same_moment_get_consecutive_numbers(live_world):
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite has no row locks (select_for_update is a no-op) and its shared-cache "
            "in-memory test database raises 'database table is locked' under concurrent "
            "writers; run with DATABASE_URL=postgres://… to prove the lock."
        )
    proposals = make_submitted(live_world, 20)
    accept_all_at_once(proposals, live_world.tiwei)
    assigned = numbers(live_world.session)
    assert assigned == list(range(69, 90))
    assert len(set(assigned)) == len(assigned)


@pytest.mark.django_db(transaction=True)
def test_twenty_acceptances_in_turn_number_the_same_way(live_world):
    """The sequential twin of the threaded test, on every database."""
    for proposal in make_submitted(live_world, 20):
        services.accept(proposal, live_world.tiwei)
    assert numbers(live_world.session) == list(range(69, 90))
