"""`manage.py generate_data`: synthetic proposals at scale, on top of existing data."""

import datetime
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, Min
from django.test import override_settings

from accounts.models import Proposer, Unit, User
from demo import seed, synthetic
from demo.generator import PLAN, REFERENCE_NOW
from proposals.models import (
    Assignment,
    ContactRecord,
    CoOpinion,
    Event,
    Proposal,
    ProposalProposer,
    Session,
)
from replies.models import DocNumberSequence, Publication, Receipt, ReplyLetter

N = 300
State = Proposal.State
ANSWERED = {State.REPLIED, State.CLOSED}


def generate(n=N, seed=7, batch_size=120):
    out = StringIO()
    call_command("generate_data", proposals=n, seed=seed, batch_size=batch_size, stdout=out)
    return out.getvalue()


@pytest.fixture
def generated(db):
    return generate()


def test_it_adds_the_requested_number_of_proposals_with_its_people_and_units(generated):
    assert Proposal.objects.count() == N
    assert Unit.objects.filter(name__endswith=synthetic.UNIT_MARK).count() == len(synthetic.UNITS)
    assert Proposer.objects.filter(user__username__startswith="gen_").count() == 400
    assert Session.objects.count() == len(PLAN)
    assert "300/300 proposals" in generated


def test_every_state_is_present_and_most_old_proposals_are_closed(generated):
    states = Counter(Proposal.objects.values_list("state", flat=True))
    assert set(states) == set(State.values)
    not_accepted = sum(states[s] for s in (State.MERGED, State.CONVERTED, State.REJECTED))
    assert 0.05 * N <= not_accepted + states[State.WITHDRAWN] <= 0.2 * N
    old = Proposal.objects.filter(session__opened_on__year__lt=2025)
    assert old.filter(state=State.CLOSED).count() >= 0.85 * old.count()


def test_numbers_are_unique_within_a_session_and_only_accepted_proposals_have_one(generated):
    numbered = Proposal.objects.exclude(number=None)
    assert set(numbered.values_list("state", flat=True)) <= {
        State.ACCEPTED,
        State.ASSIGNED,
        State.HANDLING,
        State.REPLIED,
        State.CLOSED,
    }
    assert not Proposal.objects.filter(
        state__in=[State.ACCEPTED, State.CLOSED, State.HANDLING], number=None
    ).exists()
    per_session = numbered.values("session").annotate(n=Count("id"), first=Min("number"))
    demo_session = Session.objects.get(term__number=15, number=1)
    for row in per_session:
        numbers = numbered.filter(session=row["session"]).values_list("number", flat=True)
        # Consecutive, but for the numbers the demo keeps in its session (069 …).
        reserved = seed.demo_numbers() if row["session"] == demo_session.pk else set()
        expected = [n for n in range(1, row["n"] + len(reserved) + 1) if n not in reserved]
        assert sorted(numbers) == expected[: row["n"]]
    merged = Proposal.objects.filter(state=State.MERGED)
    assert not merged.filter(merged_into=None).exists()
    for proposal in merged.select_related("merged_into"):
        assert proposal.merged_into.session_id == proposal.session_id
        assert proposal.merged_into.number is not None


def test_each_handling_mode_has_its_roles_and_deadlines(generated):
    roles = defaultdict(list)
    for a in Assignment.objects.filter(is_active=True).select_related("proposal"):
        roles[a.proposal].append(a)
    modes = Counter(p.handling_mode for p in roles)
    assert set(modes) == {"single", "split", "joint"}
    for proposal, group in roles.items():
        kinds = sorted(a.role for a in group)
        if proposal.handling_mode == "single":
            assert kinds == ["lead"]
        elif proposal.handling_mode == "split":
            assert kinds in (["split"] * 2, ["split"] * 3)
        else:
            assert kinds[0] == "co" and kinds.count("lead") == 1 and 2 <= len(kinds) <= 4
        for a in group:
            assigned_on = a.assigned_at.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
            if a.role == "co":
                assert a.opinion_due == synthetic.add_months(assigned_on.date(), 1)
                assert a.reply_due is None
            else:
                assert a.reply_due == synthetic.add_months(assigned_on.date(), 3)
            if proposal.state in (State.HANDLING, State.REPLIED, State.CLOSED):
                assert a.acknowledged_at is not None and a.acknowledged_by is not None
    unassigned = Proposal.objects.exclude(state__in=["assigned", "handling", "replied", "closed"])
    assert not Assignment.objects.filter(proposal__in=unassigned).exists()


def test_returned_assignments_point_to_their_replacement(generated):
    for a in Assignment.objects.filter(is_active=False):
        assert a.return_status == Assignment.ReturnStatus.APPROVED
        assert a.replaced_by.is_active and a.replaced_by.proposal_id == a.proposal_id


def test_about_a_quarter_are_joint_with_two_to_five_signers_the_first_at_position_0(generated):
    joint = Proposal.objects.filter(kind=Proposal.Kind.COSIGNED)
    assert 0.15 * N <= joint.count() <= 0.35 * N
    for proposal in Proposal.objects.prefetch_related("proposer_list"):
        positions = sorted(s.position for s in proposal.proposer_list.all())
        assert positions == list(range(len(positions)))
        if proposal.kind == Proposal.Kind.COSIGNED:
            assert 2 <= len(positions) <= 5
        else:
            assert len(positions) == 1
    assert (
        not ProposalProposer.objects.filter(
            proposal__state=State.AWAITING_COSIGNERS, status="pending"
        )
        .filter(position=0)
        .exists()
    )


def test_letters_are_only_for_replied_or_closed_proposals_one_per_answering_unit(generated):
    letters = ReplyLetter.objects.select_related("assignment__proposal")
    assert letters.exists()
    assert {letter.assignment.proposal.state for letter in letters} == ANSWERED
    answering = Assignment.objects.filter(
        proposal__state__in=ANSWERED, is_active=True, role__in=["lead", "split"]
    )
    assert letters.count() == answering.count()
    assert set(letters.values_list("state", flat=True)) <= {"sent", "published"}
    assert set(letters.values_list("result_class", flat=True)) == {"A", "B", "C"}
    doc_numbers = list(letters.values_list("doc_number", flat=True))
    assert len(set(doc_numbers)) == len(doc_numbers)
    for letter in letters.filter(state="published"):
        assert letter.signed_by_id and letter.published_at
        assert letter.publications.count() == 1
    assert Publication.objects.count() == letters.filter(state="published").count()
    assert not letters.filter(state="published", disclosure="none").exists()


def test_receipts_are_one_per_letter_and_proposer_and_mostly_satisfied(generated):
    receipts = Receipt.objects.all()
    pairs = list(receipts.values_list("letter", "proposer"))
    assert len(set(pairs)) == len(pairs)
    expected = sum(
        letter.assignment.proposal.proposer_list.count()
        for letter in ReplyLetter.objects.select_related("assignment__proposal")
    )
    assert len(pairs) == expected
    submitted = receipts.exclude(submitted_at=None)
    closed = receipts.filter(letter__assignment__proposal__state=State.CLOSED)
    assert closed.exclude(submitted_at=None).count() >= 0.85 * closed.count()
    satisfied = submitted.filter(attitude="satisfied").count()
    assert 0.7 <= satisfied / submitted.count() <= 0.95


def test_co_opinions_and_contacts_belong_to_the_right_units(generated):
    assert CoOpinion.objects.exists() and ContactRecord.objects.exists()
    assert set(CoOpinion.objects.values_list("assignment__role", flat=True)) == {"co"}
    assert set(ContactRecord.objects.values_list("assignment__role", flat=True)) <= {
        "lead",
        "split",
    }


def test_rows_carry_what_statistics_copy_from_others(generated):
    """Written without `save()`: the session copied onto events, assignments, letters and
    receipts, and each assignment's first face-to-face contact, as the models keep them."""
    assert not Event.objects.exclude(session=F("proposal__session")).exists()
    assert not Assignment.objects.exclude(session=F("proposal__session")).exists()
    assert not ReplyLetter.objects.exclude(session=F("assignment__session")).exists()
    assert not Receipt.objects.exclude(session=F("letter__session")).exists()
    first = {}
    face = ContactRecord.objects.filter(method__in=ContactRecord.FACE_TO_FACE)
    for assignment, on in face.values_list("assignment", "contacted_on"):
        first[assignment] = min(on, first.get(assignment, on))
    assert first
    kept = Assignment.objects.exclude(face_to_face_on=None)
    assert dict(kept.values_list("pk", "face_to_face_on")) == first


def test_every_submitted_proposal_has_its_submission_and_last_transition_events(generated):
    events = defaultdict(list)
    for event in Event.objects.order_by("created_at", "id"):
        events[event.proposal_id].append(event)
    for proposal in Proposal.objects.all():
        trail = events[proposal.pk]
        if proposal.state == State.DRAFT:
            assert [e.verb for e in trail] == ["created"]
            continue
        assert trail[0].verb == "submitted"
        assert trail[-1].to_state == proposal.state
        assert 1 <= len(trail) <= 2


def test_nothing_happens_after_the_datas_today_or_before_its_session(generated):
    latest = [
        Proposal.objects.aggregate(m=Max("updated_at"))["m"],
        Event.objects.aggregate(m=Max("created_at"))["m"],
        ReplyLetter.objects.aggregate(m=Max("published_at"))["m"],
        Receipt.objects.aggregate(m=Max("submitted_at"))["m"],
        Assignment.objects.aggregate(m=Max("acknowledged_at"))["m"],
    ]
    assert max(latest) <= REFERENCE_NOW
    for proposal in Proposal.objects.exclude(submitted_at=None).select_related("session"):
        assert proposal.submitted_at.date() >= proposal.session.opened_on
        assert proposal.created_at <= proposal.submitted_at


def test_running_twice_adds_as_many_again_without_new_people(generated):
    units, users = Unit.objects.count(), User.objects.count()
    generate()
    assert Proposal.objects.count() == 2 * N
    assert (Unit.objects.count(), User.objects.count()) == (units, users)
    numbered = Proposal.objects.exclude(number=None)
    assert numbered.values("session", "number").distinct().count() == numbered.count()
    doc_numbers = list(ReplyLetter.objects.values_list("doc_number", flat=True))
    assert len(set(doc_numbers)) == len(doc_numbers)
    # The sequence the application numbers its own letters from is past every generated one.
    for seq in DocNumberSequence.objects.select_related("unit"):
        used = ReplyLetter.objects.filter(
            assignment__unit=seq.unit, doc_number__contains=f"〔{seq.year}〕"
        ).count()
        assert seq.last >= used


def test_the_same_seed_gives_the_same_proposals(generated):
    first = list(Proposal.objects.order_by("id").values_list("title", "state", "kind"))
    generate()
    second = list(Proposal.objects.order_by("id").values_list("title", "state", "kind"))[N:]
    assert second == first


def test_it_builds_on_existing_data_without_touching_it(world):
    generate()
    world.proposal.refresh_from_db()
    assert world.proposal.number == 69 and world.proposal.state == State.HANDLING
    assert world.proposal.assignments.count() == 2
    session_numbers = Proposal.objects.filter(session=world.session).exclude(pk=world.proposal.pk)
    assert session_numbers.aggregate(m=Min("number"))["m"] == 70
    assert Session.objects.filter(is_current=True).get() == world.session
    assert not Assignment.objects.filter(unit=world.kjj_unit).exclude(pk=world.lead.pk).exists()


def test_it_writes_in_batches_not_row_by_row(db, django_assert_max_num_queries):
    # Reference data takes a few dozen queries; the proposals themselves a handful a batch
    # (SQLite splits a bulk insert by its parameter limit, so a few more there).
    with django_assert_max_num_queries(N // 2):
        generate(batch_size=N)
    assert Proposal.objects.count() == N


def test_the_demo_loads_after_generated_data(db):
    """Either order works: generated proposals keep the demo's numbers (069 …) free."""
    from django.core.management import call_command

    from demo import seed

    call_command("generate_data", proposals=300, stdout=StringIO())
    session = Session.objects.get(term__number=15, number=1)
    taken = set(Proposal.objects.filter(session=session).values_list("number", flat=True))
    assert not taken & seed.demo_numbers()
    with override_settings(DEBUG=True):
        call_command("load_demo", "--force", stdout=StringIO())
    assert (
        Proposal.objects.get(session=session, number=69).title == "关于加快创建国家级高新区的建议"
    )
