"""A real streaming replica: a database of our own on the primary, read back on the standby.

Start the standby with `tests/replica/setup_replica.sh` (as root; `.ci/run` does), then
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/x DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:5433/x
pytest -m replica tests/replica`. The database names in the URLs are not used: the tests
create their own database on the primary, which reaches the standby by streaming, and drop
it at the end. Django's test databases are not used, because a standby cannot create one.
Without DATABASE_REPLICA_URL the tests skip, except under CI=true, where a skip fails.
"""

import os
import time
from io import StringIO

import dj_database_url
import psycopg
import pytest
from django.core.management import call_command
from django.db import connections


def _admin_sql(url, sql):
    config = dj_database_url.parse(url)
    with psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchone() if cursor.description else None


def wait_for_replica(timeout=30):
    """Until the standby has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    while True:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not replay up to {target} in {timeout}s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def replica_db(django_db_blocker):
    """Both aliases pointed at a fresh, migrated database with the demo data, on the
    primary and (by streaming) on the standby; put back as they were afterwards."""
    primary_url = os.environ.get("DATABASE_URL", "")
    replica_url = os.environ.get("DATABASE_REPLICA_URL", "")
    if not replica_url or not primary_url.startswith("postgres"):
        message = "needs DATABASE_URL (PostgreSQL) and DATABASE_REPLICA_URL: see tests/replica"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: replica tests may not be skipped)")
        pytest.skip(message)
    name = f"tian_replica_{os.getpid()}"
    saved = {alias: dict(connections[alias].settings_dict) for alias in ("default", "replica")}
    _admin_sql(primary_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_sql(primary_url, f'CREATE DATABASE "{name}"')
    with django_db_blocker.unblock():
        for alias, url in (("default", primary_url), ("replica", replica_url)):
            parsed = dj_database_url.parse(url)
            connections[alias].close()
            connections[alias].settings_dict.update(
                {key: parsed[key] for key in ("HOST", "PORT", "USER", "PASSWORD")}, NAME=name
            )
        try:
            call_command("migrate", verbosity=0, database="default")
            call_command("load_demo", "--force", stdout=StringIO())
            # The new database reaches the standby by streaming like everything else.
            deadline = time.monotonic() + 30
            while not _admin_sql(
                replica_url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"
            ):
                assert time.monotonic() < deadline, "the new database never reached the replica"
                time.sleep(0.2)
            wait_for_replica()
            yield name
        finally:
            # A failed test must not leave the standby paused for everyone else.
            _admin_sql(replica_url, "SELECT pg_wal_replay_resume()")
            for alias in ("default", "replica"):
                connections[alias].close()
                connections[alias].settings_dict.clear()
                connections[alias].settings_dict.update(saved[alias])
    _admin_sql(primary_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def unblocked(replica_db, django_db_blocker):
    with django_db_blocker.unblock():
        yield replica_db
