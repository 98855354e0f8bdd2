"""`send_reminders`: one digest per unit person before and after each deadline, each once."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation

from accounts.models import Notification
from proposals import deadlines
from proposals.models import Assignment, ContactRecord, Proposal, Reminder
from proposals.services.reminders import send_reminders
from tests.test_services import make_proposal

State = Proposal.State
TODAY = datetime.date(2026, 11, 16)  # a Monday, far from any holiday


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def quiet(world):
    """The world's own assignments out of the way: contacted, due far off."""
    Assignment.objects.filter(pk__in=[world.lead.pk, world.co.pk]).update(
        reply_due=TODAY + datetime.timedelta(days=300),
        opinion_due=TODAY + datetime.timedelta(days=300),
        assigned_at=timezone.now() - datetime.timedelta(days=400),
    )
    return world


def assigned(world, number, reply_due=None, role=Assignment.Role.LEAD, unit=None, **fields):
    proposal = make_proposal(world, state=State.HANDLING, number=number)
    return Assignment.objects.create(
        proposal=proposal,
        unit=unit or world.kjj_unit,
        role=role,
        assigned_at=fields.pop("assigned_at", timezone.now() - datetime.timedelta(days=200)),
        acknowledged_at=fields.pop("acknowledged_at", timezone.now()),
        reply_due=reply_due if role != Assignment.Role.CO else None,
        opinion_due=reply_due if role == Assignment.Role.CO else None,
        **fields,
    )


def contacted(assignment):
    ContactRecord.objects.create(
        assignment=assignment, contacted_on=TODAY, method=ContactRecord.Method.PHONE
    )
    return assignment


def digests(user, verb="deadline_reminder"):
    return list(Notification.objects.filter(recipient=user, verb=verb))


def test_a_unit_is_reminded_of_a_reply_due_soon_in_one_digest(quiet):
    w = quiet
    contacted(assigned(w, 201, TODAY + datetime.timedelta(days=2)))
    contacted(assigned(w, 202, TODAY + datetime.timedelta(days=3)))
    units, count = send_reminders(TODAY)
    assert (units, count) == (1, 2)
    [digest] = digests(w.kjj)
    assert "第201号" in digest.message and "第202号" in digest.message
    assert len(digests(w.kjj_leader)) == 1
    assert not digests(w.jxw) and not digests(w.tiwei, "deadline_overdue")


def test_running_twice_the_same_day_or_the_next_sends_nothing_again(quiet):
    contacted(assigned(quiet, 201, TODAY + datetime.timedelta(days=2)))
    assert send_reminders(TODAY) == (1, 1)
    assert send_reminders(TODAY) == (0, 0)
    assert send_reminders(TODAY + datetime.timedelta(days=1)) == (0, 0)
    assert Reminder.objects.count() == 1


def test_a_passed_deadline_is_reminded_once_more_and_the_committee_is_told(quiet):
    w = quiet
    a = contacted(assigned(w, 201, TODAY + datetime.timedelta(days=2)))
    send_reminders(TODAY)
    later = TODAY + datetime.timedelta(days=3)
    assert send_reminders(later) == (1, 1)
    assert Reminder.objects.filter(assignment=a, stage=Reminder.Stage.OVERDUE).exists()
    [told] = digests(w.tiwei, "deadline_overdue")
    assert "第201号" in told.message and "区科技局" in told.message
    assert send_reminders(later + datetime.timedelta(days=1)) == (0, 0)


def test_an_approved_extension_moves_the_reminder(quiet):
    a = contacted(assigned(quiet, 201, TODAY + datetime.timedelta(days=2)))
    send_reminders(TODAY)
    Assignment.objects.filter(pk=a.pk).update(extended_due=TODAY + datetime.timedelta(days=60))
    assert send_reminders(TODAY + datetime.timedelta(days=3)) == (0, 0)


def test_replied_work_and_far_deadlines_are_not_reminded(quiet):
    contacted(assigned(quiet, 201, TODAY + datetime.timedelta(days=40)))
    contacted(assigned(quiet, 202, TODAY - datetime.timedelta(days=1), replied_at=timezone.now()))
    assert send_reminders(TODAY) == (0, 0)


def test_a_co_units_opinion_is_reminded_until_it_is_sent(quiet):
    w = quiet
    assigned(w, 201, TODAY + datetime.timedelta(days=1), role=Assignment.Role.CO, unit=w.jxw_unit)
    send_reminders(TODAY)
    [digest] = digests(w.jxw)
    assert "co-handling opinion" in digest.message


def test_the_return_window_and_the_first_contact_are_reminded(quiet, settings):
    w = quiet
    assigned_on = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(9)))
    a = assigned(
        w, 201, TODAY + datetime.timedelta(days=90), assigned_at=assigned_on, acknowledged_at=None
    )
    window = deadlines.return_window(assigned_on).due
    first_contact = deadlines.first_contact_due(assigned_on).due
    send_reminders(TODAY)  # the window closes within five working days
    assert set(Reminder.objects.values_list("kind", flat=True)) == {"return_window"}
    send_reminders(first_contact - datetime.timedelta(days=1))
    assert Reminder.objects.filter(assignment=a, kind="first_contact").exists()
    # The closed return window is not reminded as overdue; a missed first contact is.
    send_reminders(first_contact + datetime.timedelta(days=1))
    assert not Reminder.objects.filter(kind="return_window", stage="overdue").exists()
    assert Reminder.objects.filter(kind="first_contact", stage="overdue").exists()
    assert window < first_contact


def test_email_and_sms_go_after_commit(quiet, django_capture_on_commit_callbacks, settings):
    w = quiet
    w.kjj.email, w.kjj.phone = "kjj@example.gov.cn", "13800000001"
    w.kjj.save()
    sent = []
    settings.SMS_BACKEND = "tests.test_deadline_reminders.RecordingSms"
    RecordingSms.sent = sent
    contacted(assigned(w, 201, TODAY + datetime.timedelta(days=2)))
    with django_capture_on_commit_callbacks(execute=True):
        send_reminders(TODAY)
    assert [m.to for m in mail.outbox] == [["kjj@example.gov.cn"]]
    assert [phone for phone, _text in sent] == ["13800000001"]


class RecordingSms:
    sent = []

    def send(self, phone, text):
        self.sent.append((phone, text))


def test_the_command_reports_what_it_sent(quiet):
    contacted(assigned(quiet, 201, TODAY + datetime.timedelta(days=2)))
    out = StringIO()
    call_command("send_reminders", "--date", TODAY.isoformat(), stdout=out)
    assert "1 reminder sent to 1 units" in out.getvalue()


def test_the_query_count_does_not_grow_with_the_reminders(quiet, django_assert_max_num_queries):
    w = quiet
    for n in range(3):
        contacted(assigned(w, 201 + n, TODAY + datetime.timedelta(days=1)))
    with django_assert_max_num_queries(40) as few:
        send_reminders(TODAY)
    for n in range(20):
        contacted(assigned(w, 301 + n, TODAY + datetime.timedelta(days=2), unit=w.other_unit))
    Reminder.objects.all().delete()
    with django_assert_max_num_queries(len(few.captured_queries) + 3):
        assert send_reminders(TODAY)[1] == 23


def test_a_sent_reply_not_yet_published_is_reminded_before_its_publishing_deadline(quiet):
    from replies.models import ReplyLetter

    w = quiet
    assignment = contacted(assigned(w, 210, TODAY + datetime.timedelta(days=60)))
    sent = timezone.make_aware(
        datetime.datetime.combine(TODAY - datetime.timedelta(days=26), datetime.time(10))
    )
    ReplyLetter.objects.create(
        assignment=assignment,
        title="答复函",
        salutation="张华委员：",
        body="正文",
        state=ReplyLetter.State.SENT,
        sent_at=sent,
    )
    Assignment.objects.filter(pk=assignment.pk).update(replied_at=sent)
    due = deadlines.publish_due(sent).due
    send_reminders(TODAY)
    reminder = Reminder.objects.get(assignment=assignment, kind=Reminder.Kind.PUBLISH)
    assert reminder.due == due
    assert "第210号" in digests(w.kjj)[0].message
    # Once published there is nothing left to remind.
    ReplyLetter.objects.filter(assignment=assignment).update(state=ReplyLetter.State.PUBLISHED)
    Reminder.objects.all().delete()
    send_reminders(TODAY)
    assert not Reminder.objects.filter(kind=Reminder.Kind.PUBLISH).exists()
