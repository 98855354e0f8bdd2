"""The statistics are kept per session, in parts, and counted again only where they changed.

Every figure must equal what a direct count gives (`figures(..., use_cache=False)`),
whatever was kept; a step counts again its part of its session only; a day passing counts
again only what has open work (what is overdue moves), and not at all without it.
"""

import datetime
from unittest import mock

import pytest
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from proposals import deadlines, services
from proposals.models import (
    STATISTICS_PARTS,
    Assignment,
    ContactRecord,
    Event,
    Proposal,
    ProposalProposer,
    Session,
)
from proposals.services.registration import PaperProposal, register_paper_proposals
from replies import statistics
from replies.models import Receipt, ReplyLetter
from replies.statistics import Scope, figures

from .conftest import contact

DAY = datetime.timedelta(days=1)


def same(kept, direct):
    """Figures compared as the page shows them: a count never made reads as 0."""

    def shown(tables):
        return {
            table: {
                key: {name: n for name, n in counts.items() if n}
                if isinstance(counts, dict)
                else counts
                for key, counts in rows.items()
            }
            for table, rows in tables.items()
        }

    return shown(kept) == shown(direct)


def submitted(world, session, title):
    """A new proposal of 李四 in the session, submitted for review (a step of the session)."""
    proposal = Proposal.objects.create(
        session=session, title=title, reasons="理由", suggestions="建议", category=world.category
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=world.lisi_proposer)
    return services.submit(proposal, world.tiwei)


@pytest.fixture
def two(world):
    """The world's session (proposal 069 in handling at 区科技局) and a second session with
    a proposal in handling at 区教委: both have open work."""
    w = world
    w.s2 = Session.objects.create(term=w.term, number=2)
    proposal = submitted(w, w.s2, "关于校车的建议")
    services.accept(proposal, w.tiwei)
    services.assign(proposal, w.tiwei, Proposal.HandlingMode.SINGLE, lead=w.other_unit)
    w.a2 = Assignment.objects.get(proposal=proposal, is_active=True)
    services.acknowledge(w.a2, w.outsider)
    return w


def test_all_sessions_are_the_sum_counted_directly_after_steps_in_two_sessions(two):
    today = timezone.localdate()
    figures(None, today)
    for n in range(3):
        submitted(two, two.session, f"关于路灯的建议{n}")
        contact(two.a2, two.outsider, method="meeting")
        submitted(two, two.s2, f"关于公园的建议{n}")
        for session in (two.session, two.s2, None):
            assert same(figures(session, today), figures(session, today, use_cache=False))
    counts = figures(None, today)["sessions"]
    assert (counts[two.session.pk]["pending"], counts[two.s2.pk]["pending"]) == (3, 3)


def test_a_step_counts_again_only_its_part_of_its_session(two, django_assert_num_queries):
    today = timezone.localdate()
    figures(None, today)
    submitted(two, two.session, "关于路灯的建议")
    figures(None, today)  # the first step: the session is counted part by part
    proposal = submitted(two, two.session, "关于公园的建议")
    # The versions, the events since the kept one, the calendar (open work), then the five
    # queries of one part of session 1; session 2 is read from the cache.
    with (
        mock.patch.object(statistics, "tally", wraps=statistics.tally) as counted,
        django_assert_num_queries(8),
    ):
        counts = figures(None, today)
    part = proposal.pk % STATISTICS_PARTS
    assert [call.args[0] for call in counted.call_args_list] == [
        Scope(two.session.pk, by_part=True, parts=(part,))
    ]
    assert counts["sessions"][two.session.pk]["pending"] == 2
    assert same(counts, figures(None, today, use_cache=False))


def test_all_sessions_take_out_and_put_in_only_the_session_a_step_changed(two):
    today = timezone.localdate()
    figures(None, today)
    submitted(two, two.session, "关于路灯的建议")
    figures(None, today)
    submitted(two, two.session, "关于公园的建议")
    with (
        mock.patch.object(statistics, "_summed", wraps=statistics._summed) as summed,
        mock.patch.object(
            statistics, "_session_counts", wraps=statistics._session_counts
        ) as sessions,
    ):
        counts = figures(None, today)
    # Session 1's old counts out of the kept sum and its new ones in: session 2 is neither
    # read nor added up again.
    assert summed.call_count == 0
    assert [call.args[0] for call in sessions.call_args_list] == [two.session.pk]
    assert counts["sessions"][two.session.pk]["pending"] == 2
    assert same(counts, figures(None, today, use_cache=False))


def test_a_parts_five_queries_are_compiled_once_and_count_what_they_count_built(two, hand_letter):
    """A session's five queries (a few parts of it, or all) are compiled once per process,
    with the session, the parts and the day put in: the same counts as the queries built for
    them, on a day where 069 has its letter and receipt and 区教委's assignment is overdue."""
    statistics._compiled.clear()
    day = statistics.Day(two.a2.reply_due + 30 * DAY)
    n = STATISTICS_PARTS
    cases = [
        (two.s2.pk, (two.a2.proposal_id % n,)),
        (two.session.pk, (two.lead.proposal_id % n,)),
        (two.session.pk, tuple((two.lead.proposal_id + i) % n for i in range(3))),
    ]
    counted = {}
    for session, parts in cases:
        scope = Scope(session, by_part=True, parts=parts)
        with mock.patch.object(statistics, "_queries", wraps=statistics._queries) as built:
            counted[session, parts] = statistics.tally(scope, day)
        # Built for the stand-ins once per number of parts (1, then 4 for three parts).
        assert built.call_count == (0 if (session, parts) == cases[1] else 1)
        assert counted[session, parts] == statistics.tally(scope, day, compiled=False)
    # A whole session, at once and part by part, by the same compiled queries.
    for scope in (Scope(two.session.pk), Scope(two.s2.pk, by_part=True)):
        assert statistics.tally(scope, day) == statistics.tally(scope, day, compiled=False)
    # The day's figures alone (a new day), compiled as well.
    for scope in (Scope(two.s2.pk), Scope(two.s2.pk, by_part=True, parts=cases[0][1])):
        compiled = statistics._day_tally(scope, day)
        assert compiled[scope.parts[0] if scope.parts else None]["units"][two.other_unit.pk] == {
            "overdue": 1,
            "contact_overdue": 1,
        }
        assert compiled == statistics._day_tally(scope, day, compiled=False)
    s2 = counted[cases[0]][cases[0][1][0]]
    assert s2["units"][two.other_unit.pk]["overdue"] == 1
    assert s2["units"][two.other_unit.pk]["contact_overdue"] == 1
    session = counted[cases[1]][cases[1][1][0]]
    assert session["units"][two.kjj_unit.pk]["letters"] == 1
    assert session["units"][two.kjj_unit.pk]["asked"] == 1


def test_a_step_committed_after_a_later_one_is_counted_with_the_sessions_next_step(two):
    today = timezone.localdate()
    figures(two.session, today)
    submitted(two, two.session, "关于路灯的建议")
    figures(two.session, today)  # kept in parts
    parts_key = statistics._kept_key(two.session.pk, "parts")
    before = cache.get(parts_key)
    late = submitted(two, two.session, "关于公园的建议")
    # Someone counted while that step was not committed yet, but a later step was: the
    # counts without it, kept under the version of its event.
    version = statistics.versions(two.session)[two.session.pk]
    cache.set(parts_key, {**before, "version": version, "read_at": timezone.now()})
    cache.delete(statistics._kept_key(two.session.pk, "counts"))
    assert figures(two.session, today)["sessions"][two.session.pk]["pending"] == 1
    # The session's next step, in another part.
    following = submitted(two, two.session, "关于菜市场的建议")
    assert following.pk % STATISTICS_PARTS != late.pk % STATISTICS_PARTS
    counts = figures(two.session, today)
    assert counts["sessions"][two.session.pk]["pending"] == 3
    assert same(counts, figures(two.session, today, use_cache=False))


def test_the_figures_of_a_session_without_open_work_are_kept_across_days(
    world, django_assert_num_queries
):
    quiet = Session.objects.create(term=world.term, number=3)
    submitted(world, quiet, "关于菜市场的建议")
    today = timezone.localdate()
    figures(quiet, today)
    with django_assert_num_queries(1):  # its version only
        tomorrow = figures(quiet, today + DAY)
    assert tomorrow["sessions"][quiet.pk]["pending"] == 1


@pytest.mark.parametrize("steps", [0, 2], ids=["counted whole", "kept in parts"])
def test_a_session_with_open_work_has_what_is_overdue_counted_again_on_another_day(world, steps):
    due = world.lead.reply_due  # 069's reply, in 90 days
    for n in range(steps):
        submitted(world, world.session, f"关于路灯的建议{n}")
        figures(world.session, due)
    on_the_day = figures(world.session, due)["sessions"][world.session.pk]
    # Only the day's figures are counted again, from the open work: nothing else changed.
    with (
        mock.patch.object(statistics, "tally", wraps=statistics.tally) as counted,
        mock.patch.object(statistics, "_day_tally", wraps=statistics._day_tally) as day_counted,
    ):
        after = figures(world.session, due + DAY)
    assert counted.call_count == 0 and day_counted.call_count == 1
    session = after["sessions"][world.session.pk]
    assert (on_the_day["overdue"], session["overdue"]) == (0, 1)
    assert session["assigned"] == on_the_day["assigned"] == 1
    assert after["units"][world.kjj_unit.pk]["overdue"] == 1
    assert same(after, figures(world.session, due + DAY, use_cache=False))
    # A step on that day in another part: that part counted again, whole.
    submitted(world, world.session, "关于菜市场的建议")
    assert same(
        figures(world.session, due + DAY), figures(world.session, due + DAY, use_cache=False)
    )


def test_a_step_on_a_new_day_in_a_part_with_open_work_counts_that_part_again_whole(world):
    """069's part, kept with its open work on the day before, changes by a step on the next
    day: counted again whole by the five queries, not patched with the day's figures."""
    due = world.lead.reply_due
    submitted(world, world.session, "关于路灯的建议")
    figures(world.session, due)
    submitted(world, world.session, "关于公园的建议")
    figures(world.session, due)  # kept in parts on `due`
    contact(world.lead, world.kjj, method="meeting")
    part = world.lead.proposal_id % STATISTICS_PARTS
    with (
        mock.patch.object(statistics, "tally", wraps=statistics.tally) as counted,
        mock.patch.object(statistics, "_day_tally", wraps=statistics._day_tally) as day_counted,
    ):
        counts = figures(world.session, due + DAY)
    assert [call.args[0] for call in counted.call_args_list] == [
        Scope(world.session.pk, by_part=True, parts=(part,))
    ]
    assert day_counted.call_count == 0  # 069's is the only part with open work
    assert counts["units"][world.kjj_unit.pk]["overdue"] == 1
    assert same(counts, figures(world.session, due + DAY, use_cache=False))


def test_a_compiled_query_with_a_day_that_is_not_a_stand_in_is_refused(world):
    """A day put into the queries other than through the stand-ins would be counted as the
    stand-in's 1901: compiling refuses it rather than miscount."""
    statistics._compiled.clear()
    built = statistics._day_queries

    def with_another_day(scope, day):
        queries = built(scope, day)
        queries["handling"] = queries["handling"].filter(
            proposal__submitted_at__date__lt=day.today - DAY
        )
        return queries

    with (
        mock.patch.object(statistics, "_day_queries", with_another_day),
        pytest.raises(AssertionError, match="not a stand-in"),
    ):
        statistics._day_tally(Scope(world.session.pk), statistics.Day(timezone.localdate()))
    statistics._compiled.clear()


def test_a_first_contact_late_on_a_new_day_is_counted_with_the_days_figures(two):
    """区教委 took its assignment today and has not contacted the proposer: late once the
    first-contact deadline has passed, on a day the session's parts were kept before."""
    today = timezone.localdate()
    figures(two.s2, today)
    submitted(two, two.s2, "关于公园的建议")
    figures(two.s2, today)  # kept in parts
    later = deadlines.first_contact_due(today).due + DAY
    with mock.patch.object(statistics, "tally", wraps=statistics.tally) as counted:
        counts = figures(two.s2, later)
    assert counted.call_count == 0
    assert counts["units"][two.other_unit.pk]["contact_overdue"] == 1
    assert same(counts, figures(two.s2, later, use_cache=False))


def test_lost_cache_entries_are_counted_again(two):
    today = timezone.localdate()
    figures(None, today)
    submitted(two, two.session, "关于路灯的建议")
    figures(None, today)
    for what in ("parts", "counts"):
        cache.delete(statistics._kept_key(two.session.pk, what))
        submitted(two, two.session, f"关于公园的建议{what}")
        assert same(figures(None, today), figures(None, today, use_cache=False))


def test_every_row_carries_its_proposals_session(two, hand_letter):
    register_paper_proposals(
        [
            PaperProposal(
                first_proposer=two.lisi_proposer,
                title="关于停车的建议",
                reasons="理由",
                suggestions="建议",
                kind=Proposal.Kind.INDIVIDUAL,
            )
        ],
        two.tiwei,
        session=two.s2,
        period=Proposal.Period.PLENARY,
    )
    assert Event.objects.filter(session=two.s2).count() > 4
    assert not Event.objects.exclude(session=F("proposal__session")).exists()
    assert not Assignment.objects.exclude(session=F("proposal__session")).exists()
    assert ReplyLetter.objects.exists() and Receipt.objects.exists()
    assert not ReplyLetter.objects.exclude(session=F("assignment__session")).exists()
    assert not Receipt.objects.exclude(session=F("letter__session")).exists()


@pytest.fixture
def hand_letter(two):
    """069's reply sent by 区科技局, with its receipt asked of 张华."""
    from replies import services as reply_services

    letter = reply_services.start_draft(two.lead, two.kjj)
    reply_services.save_draft(
        letter, two.kjj, body=letter.body + "一、办理情况\n已办理。", result_class="A"
    )
    reply_services.submit_for_signoff(letter, two.kjj, outstanding_reason="会办单位已口头同意")
    reply_services.sign(letter, two.kjj_leader)
    return reply_services.send(letter, two.kjj)


def test_an_assignment_keeps_the_day_it_first_met_the_proposer(two):
    assert two.a2.face_to_face_on is None
    today = timezone.localdate()
    contact(two.a2, two.outsider, method="phone")
    two.a2.refresh_from_db()
    assert two.a2.face_to_face_on is None
    contact(two.a2, two.outsider, method="visit")
    two.a2.refresh_from_db()
    assert two.a2.face_to_face_on == today
    # An earlier meeting recorded afterwards is the first; a later one is not.
    ContactRecord.objects.create(
        assignment=two.a2, contacted_on=today - DAY, method=ContactRecord.Method.MEETING
    )
    ContactRecord.objects.create(
        assignment=two.a2, contacted_on=today + DAY, method=ContactRecord.Method.FORUM
    )
    two.a2.refresh_from_db()
    assert two.a2.face_to_face_on == today - DAY
