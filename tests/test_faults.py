"""Faults (issue 10, § 5): nothing is lost or half-saved when the machine misbehaves.

1. PostgreSQL restarted under requests: they fail cleanly (503 with Retry-After, never a 500)
   and the same gunicorn workers serve again once it is back. The restart is of a throwaway
   cluster of our own (initdb on a free port), never of the shared server on 5432: the test
   database is copied into it with pg_dump.
2. A full disk under DJANGO_PRIVATE_MEDIA_ROOT (a 64 KiB tmpfs, mounted by the test): an
   upload is refused with a message and leaves neither a row nor a partial file. Without
   the right to mount, the storage's write is made to fail with ENOSPC half-way instead.
3. A gunicorn worker killed (SIGKILL) in the middle of a bulk assignment: nothing of it
   stays, and the restarted worker does the step whole.

1 and 3 need PostgreSQL (DATABASE_URL) and skip on SQLite; 2 runs on either.
"""

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from accounts.models import User
from core import storage as core_storage
from proposals.models import Assignment, CoOpinion, Event, Proposal

from .conftest import PASSWORD
from .test_app_servers_share_state_only_through_the_services import PDF, Browser, free_port

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql")


def require_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("fault tests need PostgreSQL: set DATABASE_URL")


def database_url(db, host=None, port=None, name=None):
    return (
        f"postgres://{db['USER']}:{urllib.parse.quote(db['PASSWORD'] or '')}"
        f"@{host or db['HOST'] or '127.0.0.1'}:{port or db['PORT'] or 5432}/{name or db['NAME']}"
    )


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """collectstatic once: with DEBUG off (where the 500 handler runs) templates need it."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**production_env(), "DJANGO_STATIC_ROOT": str(root)},
        check=True,
    )
    return root


def production_env():
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "fault-tests-" + "x" * 50,
        # A key for the encrypted phone numbers (core/fields.py): any will do for a test.
        "DJANGO_FIELD_ENCRYPTION_KEYS": "ZmF1bHQtdGVzdHMtZmllbGQta2V5LTAwMDAwMDAwMDA=",
        "TIAN_SMS_CONSOLE_ALLOWED": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_LOG_LEVEL": "CRITICAL",
        "AXES_ENABLED": "0",
    }


def server_error_in(log):
    """The first 500's traceback in a server's log (what the assertion shows)."""
    lines = log.read_text(errors="replace").splitlines()
    start = next((i for i, line in enumerate(lines) if "Internal Server Error" in line), None)
    return "no 500 logged" if start is None else "\n".join(lines[start : start + 80])


class Gunicorn:
    def __init__(self, database, static_root, tmp_path, workers=2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **production_env(),
            "DATABASE_URL": database,
            "DJANGO_STATIC_ROOT": str(static_root),
            "DJANGO_VAR_DIR": str(tmp_path / "var"),
            # Django logs a 500's traceback at ERROR: kept to tell what failed.
            "DJANGO_LOG_LEVEL": "ERROR",
        }
        self.log = tmp_path / "gunicorn.log"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(workers),
                    "--no-control-socket",
                    "--timeout",
                    "60",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers_wanted = workers
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            with contextlib.suppress(OSError):
                if (
                    urllib.request.urlopen(self.base + "/healthz", timeout=5).status == 200
                    and len(self.workers()) == workers
                ):
                    return
            time.sleep(0.2)
        raise AssertionError("gunicorn did not start:\n" + self.log.read_text())

    def workers(self):
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    stat = (entry / "stat").read_text()
                    if int(stat[stat.rindex(")") + 2 :].split()[1]) == self.proc.pid:
                        found.append(int(entry.name))
        return sorted(found)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def production_passwords():
    """The production settings know no MD5 passwords: give the users a hash they accept."""
    hasher = PBKDF2PasswordHasher()
    User.objects.update(password=hasher.encode(PASSWORD, hasher.salt(), iterations=1000))


# --- 1. PostgreSQL restarted under requests ---------------------------------------------------


class Cluster:
    """A PostgreSQL cluster of our own in a temporary directory, on a free port."""

    def __init__(self):
        versions = sorted(PG_BIN.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not versions:
            pytest.skip("no PostgreSQL server binaries (initdb) to start a cluster of our own")
        self.bin = versions[-1].parent
        self.as_postgres = []
        if os.geteuid() == 0:
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.dir = Path(tempfile.mkdtemp(prefix="tian-faults-pg-"))
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.pg_ctl("start")

    def run(self, tool, *args):
        subprocess.run(
            [*self.as_postgres, str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            cwd=self.dir,
        )

    def pg_ctl(self, action, *extra):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            "pg_ctl",
            action,
            "-D",
            str(self.data),
            "-w",
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            *extra,
        )

    def remove(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_cluster():
    require_postgresql()
    cluster = Cluster()
    yield cluster
    cluster.remove()


def copy_database(db, cluster, name):
    """The test database (schema and rows) into `name` on the cluster, via pg_dump."""
    dump = subprocess.run(
        [
            str(cluster.bin / "pg_dump"),
            "--no-owner",
            "--no-privileges",
            database_url(db),
        ],
        check=True,
        capture_output=True,
    ).stdout
    url = database_url(db, "127.0.0.1", cluster.port, "postgres")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [
            str(cluster.bin / "psql"),
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            url.rsplit("/", 1)[0] + "/" + name,
        ],
        input=dump,
        check=True,
        capture_output=True,
    )


def test_postgresql_restarted_under_requests_answers_503_and_recovers(
    live_world, own_cluster, static_root, tmp_path
):
    production_passwords()
    db = connection.settings_dict
    copy_database(db, own_cluster, "tian_faults")
    app = Gunicorn(
        database_url(db, "127.0.0.1", own_cluster.port, "tian_faults"), static_root, tmp_path
    )
    try:
        browser = Browser()
        browser.log_in(app.base, "tiwei")
        assert browser.request(app.base + "/work/")[0] == 200
        workers = app.workers()

        answers, bodies, stop = [], {}, threading.Event()

        def hammer():
            while not stop.is_set():
                status, body = browser.request(app.base + "/work/")
                answers.append(status)
                bodies.setdefault(status, body)

        clients = [threading.Thread(target=hammer) for _ in range(3)]
        for client in clients:
            client.start()
        time.sleep(1)
        own_cluster.pg_ctl("stop", "-m", "fast")
        time.sleep(2)  # down for a while: every request in between needs the database
        own_cluster.pg_ctl("start")
        time.sleep(2)
        stop.set()
        for client in clients:
            client.join()

        assert 500 not in answers, server_error_in(app.log)
        assert set(answers) <= {200, 503}, sorted(set(answers))
        assert 503 in answers, "no request saw the database down"
        page = bodies[503].decode()
        assert "暂时无法连接数据库" in page or "The database cannot be reached" in page
        # Recovered without restarting the app: the same workers answer 200 again.
        statuses = [browser.request(app.base + "/work/")[0] for _ in range(6)]
        assert statuses == [200] * 6
        assert app.workers() == workers
    finally:
        app.stop()


def test_the_500_handler_answers_503_for_an_unreachable_database(rf):
    """Whatever raised it, directly or as the cause of another error."""
    from django.db import OperationalError

    from core import errors

    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = errors.server_error(rf.get("/"))
    assert response.status_code == 503
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    try:
        try:
            raise OperationalError("down")
        except OperationalError as exc:
            raise RuntimeError("while rendering") from exc
    except RuntimeError as outer:
        assert errors.database_unavailable(outer)
    try:
        raise ValueError("a bug")
    except ValueError:
        assert errors.server_error(rf.get("/")).status_code == 500


# --- 2. a full disk under DJANGO_PRIVATE_MEDIA_ROOT -------------------------------------------


@pytest.fixture
def full_disk(tmp_path, settings, monkeypatch):
    """(media root, how it was filled): a 64 KiB tmpfs, filled; else ENOSPC half-way."""
    media = tmp_path / "media"
    media.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(media)], capture_output=True
        ).returncode
        == 0
    )
    if mounted:
        # Leave a few KiB: the upload below is larger.
        with contextlib.suppress(OSError), open(media / "filler", "wb") as f:
            f.write(b"\0" * 56 * 1024)
        how = "tmpfs"
    else:
        real_save = core_storage.FileSystemStorage._save

        def half_then_enospc(self, name, content):
            class Half:
                def chunks(self):
                    yield PDF[: len(PDF) // 2]
                    raise OSError(errno.ENOSPC, "No space left on device")

            return real_save(self, name, Half())

        monkeypatch.setattr(core_storage.FileSystemStorage, "_save", half_then_enospc)
        how = "patched"
    settings.MEDIA_ROOT = str(media)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "core.storage.PrivateFileSystemStorage"},
    }
    before = {p.relative_to(media) for p in media.rglob("*")}
    yield media, how, before
    if mounted:
        subprocess.run(["umount", str(media)], check=False)


def test_an_upload_to_a_full_disk_is_refused_and_nothing_is_half_saved(client, world, full_disk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    media, how, before = full_disk
    events = Event.objects.count()
    client.force_login(world.jxw)
    big = PDF + b"%" + b"x" * (32 * 1024) + b"\n"  # more than the disk has left
    response = client.post(
        f"/work/proposals/assignments/{world.co.pk}/opinion/",
        {
            "title": "会办意见",
            "body": "一、支持创建国家级高新区。",
            "attachment": SimpleUploadedFile("会办意见.pdf", big, "application/pdf"),
        },
    )
    assert response.status_code == 200, how
    text = response.content.decode()
    assert "附件无法保存" in text or "The attachment could not be stored" in text
    assert "服务器磁盘已满" in text or "the server&#x27;s disk is full" in text
    # Nothing half-saved: no opinion, no event, no file (whole or partial) on the disk.
    assert not CoOpinion.objects.filter(assignment=world.co).exists()
    assert Event.objects.count() == events
    assert {p.relative_to(media) for p in media.rglob("*") if p.is_file()} <= before
    # Once there is room again the same upload goes through.
    with contextlib.suppress(FileNotFoundError):
        (media / "filler").unlink()


# --- 3. a worker killed in the middle of a step ------------------------------------------------


@pytest.fixture
def postgresql(transactional_db):
    require_postgresql()


def test_a_worker_killed_in_the_middle_of_a_bulk_assignment_leaves_nothing(
    postgresql, live_world, static_root, tmp_path
):
    production_passwords()
    w = live_world
    proposals = [
        Proposal.objects.create(
            session=w.session,
            number=100 + i,
            title=f"关于第{i}件提案的建议",
            reasons="理由",
            suggestions="建议",
            category=w.category,
            state=Proposal.State.ACCEPTED,
            review_outcome=Proposal.ReviewOutcome.ACCEPT,
        )
        for i in range(5)
    ]
    ids = [p.pk for p in proposals]
    db = connection.settings_dict
    app = Gunicorn(database_url(db), static_root, tmp_path, workers=1)
    try:
        browser = Browser()
        browser.log_in(app.base, "tiwei")
        form = {"proposals": ids, "mode": "single", "lead": w.kjj_unit.pk, "comment": "交办会"}
        data = urllib.parse.urlencode(
            [
                *((k, v) for k, v in form.items() if k != "proposals"),
                *(("proposals", i) for i in ids),
            ]
        )
        # Hold the last proposal's row: the step assigns the first four, then waits for it.
        blocker = psycopg.connect(database_url(db))
        blocker.execute("SELECT 1 FROM proposals_proposal WHERE id = %s FOR UPDATE", [ids[-1]])
        answer = {}

        def post():
            answer["status"] = post_form(browser, app.base + "/work/proposals/assign/", data)

        step = threading.Thread(target=post)
        step.start()
        waiting = wait_for_lock_wait(db)
        assert waiting, "the step never reached the locked row"
        (worker,) = app.workers()
        os.kill(worker, signal.SIGKILL)
        step.join(timeout=30)
        blocker.rollback()
        blocker.close()
        wait_until_gone(db, waiting)

        assert answer.get("status") != 302
        assert not Assignment.objects.filter(proposal_id__in=ids).exists()
        assert set(Proposal.objects.filter(pk__in=ids).values_list("state", flat=True)) == {
            Proposal.State.ACCEPTED
        }
        assert not Event.objects.filter(proposal_id__in=ids, verb="assigned").exists()

        # The master starts a new worker, which does the whole step.
        deadline = time.monotonic() + 30
        while len(app.workers()) != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert post_form(browser, app.base + "/work/proposals/assign/", data) == 302
        assert Assignment.objects.filter(proposal_id__in=ids).count() == 5
        assert Event.objects.filter(proposal_id__in=ids, verb="assigned").count() == 5
    finally:
        app.stop()


def post_form(browser, url, data):
    token = browser.cookie("csrftoken")
    body = (data + "&" + urllib.parse.urlencode({"csrfmiddlewaretoken": token})).encode()
    request = urllib.request.Request(
        url, body, {"Content-Type": "application/x-www-form-urlencoded", "Referer": url}
    )
    try:
        with browser.opener.open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # the worker died: no answer


def wait_for_lock_wait(db, timeout=30):
    """The pid of the backend of our database that waits for a row lock, or None."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url(db), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                [db["NAME"]],
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.1)
    return None


def wait_until_gone(db, pid, timeout=30):
    """The killed worker's backend ends (its transaction rolled back) once the lock is free."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url(db), autocommit=True) as conn:
        while time.monotonic() < deadline:
            if not conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.1)
    raise AssertionError(f"backend {pid} of the killed worker is still there")
