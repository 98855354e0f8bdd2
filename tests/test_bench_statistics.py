"""`manage.py bench_statistics` runs on any database with a session in handling: the note's
statistics timings come from it, so a change that breaks it is caught here, not on the day."""

import io

from django.core.management import call_command

from replies.management.commands.bench_statistics import MODES


def test_it_times_every_mode_for_the_current_session_and_all_sessions(world):
    out = io.StringIO()
    call_command("bench_statistics", runs=2, stdout=out)
    lines = out.getvalue().splitlines()
    for mode in MODES:
        timed = [line for line in lines if f" {mode} " in line]
        assert len(timed) == 2, (mode, lines)
        assert all(" ms " in line and "queries)" in line for line in timed)
    # Its steps were real: the contacts it recorded are in the database it measured.
    assert world.lead.contacts.filter(summary__contains="bench_statistics").count() == 4
