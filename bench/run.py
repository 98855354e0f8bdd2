"""`make bench`: the app's pages under load on PostgreSQL, beside a bare-Django floor.

Creates a database, loads the demo and BENCH_PROPOSALS generated proposals, runs
VACUUM ANALYZE, serves the app and the floor (bench/floor/) with gunicorn, logs in as
each role, measures every page with wrk and with sequential single requests, and
prints a Markdown table (also written to var/bench-<timestamp>.md). It stops both
servers and drops its database whatever happens. See bench/README.md.
"""

import datetime
import hashlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DB = "tian_bench_template"
DEMO_PASSWORD = "demo-pass-069"
SEARCH = "高新区"  # a generated topic (国家级高新区创建) and the demo 069's subject
WARMUP_ROUNDS = 3
HZ = os.sysconf("SC_CLK_TCK")
BUSY = 0.05  # other processes' share of the CPUs above which the numbers are not to be trusted


def env_int(name, default):
    return int(os.environ.get(name, default))


PROPOSALS = env_int("BENCH_PROPOSALS", 100_000)
SECONDS = env_int("BENCH_SECONDS", 10)
SAMPLES = env_int("BENCH_SAMPLES", 30)
WORKERS = env_int("BENCH_WORKERS", 3)
THREADS = env_int("BENCH_THREADS", 2)
CONNECTIONS = env_int("BENCH_CONNECTIONS", 8)
KEEP = os.environ.get("BENCH_KEEP", "0") == "1"
VACUUM = os.environ.get("BENCH_VACUUM", "1") == "1"
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB = os.environ.get("BENCH_DB") or f"tian_bench_{os.getpid()}"
# The shared cache of a production with several workers (README: "With 3 workers, set
# DJANGO_REDIS_URL"): sessions, rate limits, kept pages. "none" measures without one.
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


class BenchError(Exception):
    pass


@dataclass
class Page:
    label: str  # {proposal} and {letter} are filled in once the data is loaded
    path: str
    user: str | None  # None: anonymous
    goal: float | None  # percent of the floor's req/s
    conditional: bool = False  # send If-None-Match with the ETag of a first GET


# The issue's seven pages first, in its order; then the other roles' pages.
PAGES = [
    Page("staff workspace `/work/` (tiwei)", "/work/", "tiwei", 10),
    Page(f"… title search `/work/?q={SEARCH}`", f"/work/?q={quote(SEARCH)}", "tiwei", 10),
    Page("admin changelist `/admin/proposals/proposal/`", "/admin/proposals/proposal/", "admin", 5),
    Page(
        f"… with a search `?q={SEARCH}`",
        f"/admin/proposals/proposal/?q={quote(SEARCH)}",
        "admin",
        5,
    ),
    Page("public column `/` (anonymous)", "/", None, 40),
    Page("public column page 300 `/?page=300`", "/?page=300", None, 20),
    Page("one public reply `/replies/{letter}/`", "/replies/{letter}/", None, 40),
    Page("… the same, 304 (`If-None-Match`)", "/replies/{letter}/", None, 80, conditional=True),
    Page("unit inbox `/work/proposals/inbox/` (kjj)", "/work/proposals/inbox/", "kjj", None),
    Page(
        "sign-off queue `/work/replies/signoff/` (kjj_leader)",
        "/work/replies/signoff/",
        "kjj_leader",
        None,
    ),
    Page(
        "proposal 069 `/work/proposals/{proposal}/` (tiwei)",
        "/work/proposals/{proposal}/",
        "tiwei",
        None,
    ),
]

# Printed by `manage.py shell`: the demo's proposal 069 and its published reply letter.
FIND_IDS = """
from proposals.models import Proposal
from replies.models import ReplyLetter
p = Proposal.objects.get(session__term__number=15, session__number=1, number=69)
letter = ReplyLetter.objects.get(assignment__proposal=p, round=1)
print(p.pk, letter.pk, Proposal.objects.count())
"""


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the database --------------------------------------------------------------------------------


def admin_connection():
    return psycopg.connect(f"{POSTGRES}/postgres", autocommit=True)


def database_url(name):
    return f"{POSTGRES}/{name}"


def data_fingerprint():
    """What the loaded data depends on: a kept template is reused only while this is unchanged."""
    digest = hashlib.sha256(str(PROPOSALS).encode())
    sources = [
        *sorted(ROOT.glob("*/migrations/*.py")),
        *sorted((ROOT / "demo").glob("*.py")),
        *sorted((ROOT / "demo" / "management" / "commands").glob("*.py")),
    ]
    for path in sources:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    analyzed = "VACUUM ANALYZE" if VACUUM else "ANALYZE"
    return f"tian bench: {PROPOSALS} proposals, {analyzed}, code {digest.hexdigest()[:16]}"


def template_comment(admin):
    row = admin.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [TEMPLATE_DB],
    ).fetchone()
    return None if row is None else (row[0] or "")


def drop_database(admin, name):
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def load_data(admin, name, load_env):
    """Create `name` and fill it: migrate, the demo, then the generated proposals; analyze."""
    started = time.monotonic()
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = {**load_env, "DATABASE_URL": database_url(name)}
    manage(env, "migrate", "--noinput", "-v", "0")
    # The demo first: loaded after generate_data, its 第069号 collides with a generated one.
    manage(env, "load_demo", "--force")
    manage(env, "generate_data", "--proposals", str(PROPOSALS))
    # VACUUM too by default: the tables are then as autovacuum keeps them in production (with
    # the visibility map that index-only scans need), whether autovacuum is on here or not,
    # and it cannot wake up on the fresh tables in the middle of a measurement.
    statement = "VACUUM (ANALYZE)" if VACUUM else "ANALYZE"
    log(statement)
    with psycopg.connect(database_url(name), autocommit=True) as conn:
        conn.execute(statement)
    log(f"database {name} loaded in {time.monotonic() - started:.0f} s")


def prepare_database(admin, load_env):
    """The run's database `DB`, loaded; from the kept template when BENCH_KEEP=1 allows."""
    if KEEP:
        fingerprint = data_fingerprint()
        comment = template_comment(admin)
        if comment != fingerprint:
            if comment is not None:
                log(f"template {TEMPLATE_DB} is stale or incomplete ({comment!r}): rebuilding")
                drop_database(admin, TEMPLATE_DB)
            load_data(admin, TEMPLATE_DB, load_env)
            # Written last: a template without it was not finished and is rebuilt.
            admin.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(TEMPLATE_DB), sql.Literal(fingerprint)
                )
            )
        else:
            log(f"reusing template {TEMPLATE_DB} ({comment})")
        started = time.monotonic()
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY file_copy").format(
                sql.Identifier(DB), sql.Identifier(TEMPLATE_DB)
            )
        )
        log(f"copied {TEMPLATE_DB} to {DB} in {time.monotonic() - started:.0f} s")
    else:
        load_data(admin, DB, load_env)


def wait_idle(admin, servers, limit=300):
    """Wait until the workers use no CPU and the database runs no query.

    wrk leaves requests in flight when it stops; a slow page's would otherwise still
    be running while the next page is measured.
    """
    deadline = time.monotonic() + limit
    quiet, before = 0, cpu_ticks(servers)
    while quiet < 2:
        if time.monotonic() > deadline:
            log(f"warning: still busy after {limit} s; measuring anyway")
            return
        time.sleep(0.25)
        now = cpu_ticks(servers)
        (active,) = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active'",
            [DB],
        ).fetchone()
        quiet = quiet + 1 if now - before <= 1 and active == 0 else 0
        before = now


# --- processes -----------------------------------------------------------------------------------


# config/settings.py's key for DEBUG (the bench loads its data with DEBUG on).
DEVELOPMENT_FIELD_KEY = "ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDAwMDA="


def clean_env():
    """The caller's environment without the app's settings, so that every run is alike."""
    prefixes = ("DJANGO_", "TIAN_", "AXES_", "DATABASE_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def shared_cache():
    """The Redis database the app's workers share, emptied; None without one."""
    if REDIS.lower() in ("", "0", "none"):
        return None
    import redis

    try:
        redis.Redis.from_url(REDIS).flushdb()
    except redis.RedisError as error:
        raise BenchError(
            f"Redis at {REDIS} does not answer ({error}); BENCH_REDIS_URL=none"
        ) from error
    return REDIS


def manage(env, *args):
    log("manage.py " + " ".join(args))
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stat(pid):
    """The command name in /proc/<pid>/stat, and the fields after it."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()


def proc_status(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])  # kB
    return 0


def cpu_ticks(servers):
    total = 0
    for server in servers:
        for pid in server.workers():
            try:
                _comm, fields = proc_stat(pid)
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def command_line(pid, width=60):
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return b" ".join(words).decode(errors="replace").strip()[:width]


class Neighbours(threading.Thread):
    """CPU that other processes take while we measure: on a busy machine the numbers lie.

    Samples /proc every second; PostgreSQL's processes are not counted (ours are among them).
    """

    def __init__(self, sessions):
        super().__init__(daemon=True)
        self.sessions = {str(s) for s in sessions}  # ours, wrk's and the servers' sessions
        self.started = time.monotonic()
        self.since = time.clock_gettime(time.CLOCK_BOOTTIME) * HZ  # /proc's starttime unit
        self.seen = {}  # pid: ticks at the last sample
        self.used = {}  # command line: ticks used since we started
        self.stopping = threading.Event()
        self.sample()

    def run(self):
        while not self.stopping.wait(1):
            self.sample()

    def sample(self):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                comm, fields = proc_stat(entry.name)
            except (FileNotFoundError, ProcessLookupError):
                continue
            if fields[3] in self.sessions or comm == "postgres":
                continue
            ticks = int(fields[11]) + int(fields[12])
            if entry.name in self.seen:
                before = self.seen[entry.name]
            else:  # a process born since we started used all its time while we measured
                before = ticks if int(fields[19]) < self.since else 0
            if ticks > before:
                name = command_line(entry.name) or comm
                self.used[name] = self.used.get(name, 0) + ticks - before
            self.seen[entry.name] = ticks

    def stop(self):
        """One line for the report, and whether the machine was busy."""
        self.stopping.set()
        self.join()
        self.sample()
        seconds = time.monotonic() - self.started
        used = {name: ticks / HZ for name, ticks in self.used.items()}
        share = sum(used.values()) / (seconds * os.cpu_count())
        top = sorted(used.items(), key=lambda item: -item[1])[:3]
        names = ", ".join(f"`{name}` {cpu:.0f} s" for name, cpu in top if cpu >= 1)
        line = (
            f"other processes (PostgreSQL not counted) used {sum(used.values()):.0f} CPU-seconds "
            f"in the {seconds:.0f} s of measuring, {share:.0%} of the machine"
            + (f" ({names})" if names else "")
        )
        return line, share > BUSY


@dataclass
class Server:
    """A gunicorn master and its workers, in a process group of their own."""

    name: str
    app: str
    cwd: Path
    env: dict
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def start(self):
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(WORKERS),
            # Else both servers would claim the same ~/.gunicorn/gunicorn.ctl.
            "--no-control-socket",
        ]
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}")
            try:
                if get(self.port, path)[0] == 200 and len(self.workers()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"{self.name} did not answer {path} in {timeout} s")

    def workers(self):
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int(proc_stat(entry.name)[1][1]) == self.proc.pid:  # its parent
                        found.append(int(entry.name))
                except (FileNotFoundError, ProcessLookupError):
                    continue
        return sorted(found)

    def log_tail(self, lines=30):
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            return ""
        return "\n--- " + self.name + " log ---\n" + "\n".join(tail)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


# --- HTTP --------------------------------------------------------------------------------------


def get(port, path, headers=None, method="GET", body=None):
    """(status, response, body); a new connection each time, as gunicorn's sync workers close it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response, response.read()
    finally:
        conn.close()


def cookies_of(response):
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def login(port, username):
    """The Cookie header of a session of `username`, from the login form as a browser posts it."""
    status, response, body = get(port, "/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None:
        raise BenchError(f"GET /accounts/login/ answered {status} without a CSRF token")
    cookies = cookies_of(response)
    form = {
        "username": username,
        "password": DEMO_PASSWORD,
        "csrfmiddlewaretoken": token.group(1).decode(),
    }
    status, response, _body = get(
        port,
        "/accounts/login/",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
        },
        method="POST",
        body=urlencode(form),
    )
    cookies |= cookies_of(response)  # the session, and the CSRF token login rotates
    if status != 302 or "sessionid" not in cookies:
        raise BenchError(f"login as {username} failed: {status}, cookies {sorted(cookies)}")
    return f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}"


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Result:
    rps: float
    requests: int
    errors: str  # wrk's complaints, empty when none
    times_ms: list

    def percentile(self, p):
        ordered = sorted(self.times_ms)
        k = (len(ordered) - 1) * p / 100
        low = int(k)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def warm_up(port, path, headers, expected):
    """A few rounds of concurrent requests, so that every worker has served the page once."""
    with ThreadPoolExecutor(2 * WORKERS) as pool:
        for _ in range(WARMUP_ROUNDS):
            for status, _response, body in pool.map(
                lambda _: get(port, path, headers), range(2 * WORKERS)
            ):
                if status != expected:
                    raise BenchError(
                        f"GET {path} answered {status}, not {expected}: "
                        + body[:300].decode(errors="replace")
                    )


def sequential(port, path, headers, expected):
    """Single requests one after another, timed in the client: server time plus loopback."""
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        status = get(port, path, headers)[0]
        times.append((time.perf_counter() - started) * 1000)
        if status != expected:
            raise BenchError(f"GET {path} answered {status}, not {expected}")
    return times


def wrk(port, path, headers):
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{SECONDS}s",
        "--timeout",
        "120s",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    if rps is None or requests is None:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    errors = []
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors.append(f"{m.group(1)} non-2xx/3xx responses")
    if m := re.search(r"Socket errors: (.*)", output):
        errors.append(f"socket errors: {m.group(1)}")
    return float(rps.group(1)), int(requests.group(1)), "; ".join(errors)


def measure(port, path, headers=None, conditional=False):
    headers = dict(headers or {})
    if conditional:
        status, response, _body = get(port, path, headers)
        etag = response.getheader("ETag")
        if status != 200 or not etag:
            raise BenchError(f"GET {path} answered {status} with ETag {etag!r}")
        headers["If-None-Match"] = etag
    expected = 304 if conditional else 200
    warm_up(port, path, headers, expected)
    times = sequential(port, path, headers, expected)
    rps, requests, errors = wrk(port, path, headers)
    return Result(rps, requests, errors, times)


# --- the report ----------------------------------------------------------------------------------


def rss_line(server):
    sizes = [
        (proc_status(pid, "VmRSS") / 1024, proc_status(pid, "VmHWM") / 1024)
        for pid in server.workers()
    ]
    now = ", ".join(f"{rss:.0f}" for rss, _peak in sizes)
    peak = ", ".join(f"{hwm:.0f}" for _rss, hwm in sizes)
    return f"{now} MiB (peak {peak} MiB)", max((rss for rss, _ in sizes), default=0)


def machine():
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} CPUs ({model})" if model else f"{os.cpu_count()} CPUs"


def git_version():
    def git(*args):
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip()

    dirty = " + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{git('rev-parse', '--short', 'HEAD')} ({git('log', '-1', '--format=%s')}){dirty}"


def report(facts, floor_start, floor_end, rows, notes):
    floor = (floor_start.rps + floor_end.rps) / 2
    lines = [
        f"# Benchmark {datetime.datetime.now():%Y-%m-%d %H:%M}",
        "",
        *(f"- {fact}" for fact in facts),
        f"- floor (bare Django view, no database, no session): {floor_start.rps:.1f} req/s "
        f"at the start, {floor_end.rps:.1f} at the end, mean {floor:.1f}; "
        f"p50 {floor_start.percentile(50):.1f} ms, p95 {floor_start.percentile(95):.1f} ms",
        "",
        "| page | req/s | share of floor | p50 ms | p95 ms | goal | met? |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, goal, result in rows:
        share = result.rps / floor * 100
        goal_text = f"≥ {goal:g} %" if goal is not None else "—"
        met = "—" if goal is None else ("yes" if share >= goal else "no")
        lines.append(
            f"| {label} | {result.rps:.1f} | {share:.2f} % | {result.percentile(50):.1f} "
            f"| {result.percentile(95):.1f} | {goal_text} | {met} |"
        )
        if result.errors:
            notes.append(f"{label}: wrk reported {result.errors}")
        if result.requests < 100:
            notes.append(f"{label}: only {result.requests} requests in {SECONDS} s")
    if notes:
        lines += ["", "Notes:", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


# --- the run -------------------------------------------------------------------------------------


def measure_pages(admin, app, floor, ids):
    """The floor, every page, the floor again; each page's (label, goal, result)."""
    cookies = {user: login(app.port, user) for user in {p.user for p in PAGES} - {None}}
    log("floor (start)")
    floor_start = measure(floor.port, "/")
    log(f"  {floor_start.rps:.1f} req/s")
    rows = []
    for page in PAGES:
        label, path = page.label.format(**ids), page.path.format(**ids)
        log(label)
        headers = {"Cookie": cookies[page.user]} if page.user else {}
        result = measure(app.port, path, headers, page.conditional)
        log(f"  {result.rps:.1f} req/s, p50 {result.percentile(50):.1f} ms")
        rows.append((label, page.goal, result))
        wait_idle(admin, [app, floor])
    log("floor (end)")
    floor_end = measure(floor.port, "/")
    log(f"  {floor_end.rps:.1f} req/s")
    return floor_start, rows, floor_end


def run(admin, tmp):
    started = time.monotonic()
    base_env = clean_env()
    load_env = {**base_env, "DJANGO_DEBUG": "1", "DJANGO_VAR_DIR": str(tmp / "var")}
    serve_env = {
        **base_env,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # The demo was loaded with DEBUG's development key: serve it with the same.
        "DJANGO_FIELD_ENCRYPTION_KEYS": DEVELOPMENT_FIELD_KEY,
        "TIAN_SMS_CONSOLE_ALLOWED": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": database_url(DB),
    }
    redis_url = shared_cache()
    if redis_url:
        serve_env["DJANGO_REDIS_URL"] = redis_url

    prepare_database(admin, load_env)
    manage(serve_env, "collectstatic", "--noinput", "-v", "0")
    found = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", FIND_IDS],
        cwd=ROOT,
        env=serve_env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    proposal_id, letter_id, total_proposals = (int(x) for x in found[-3:])

    app = Server("app", "config.wsgi", ROOT, serve_env, tmp / "app.log")
    floor = Server(
        "floor",
        "floor.wsgi",
        ROOT / "bench",
        {**base_env, "DJANGO_SETTINGS_MODULE": "floor.settings"},
        tmp / "floor.log",
    )
    try:
        for server in (app, floor):
            server.start()
        app.wait_ready("/healthz")
        floor.wait_ready("/")
        log(f"app on :{app.port}, floor on :{floor.port}, {WORKERS} workers each")
        workers_before = app.workers()
        neighbours = Neighbours([os.getsid(0), app.proc.pid, floor.proc.pid])
        neighbours.start()
        floor_start, rows, floor_end = measure_pages(
            admin, app, floor, {"proposal": proposal_id, "letter": letter_id}
        )
        others, busy = neighbours.stop()
        (app_rss, app_rss_max), (floor_rss, _) = rss_line(app), rss_line(floor)
        restarted = app.workers() != workers_before
    except Exception:  # what the servers said may explain it
        for server in (app, floor):
            print(server.log_tail(), file=sys.stderr)
        raise
    finally:
        for server in (app, floor):
            server.stop()

    pg_version = admin.execute("SHOW server_version").fetchone()[0]
    facts = [
        f"code: {git_version()}",
        f"machine: {machine()}; PostgreSQL {pg_version}",
        f"data: the demo + {PROPOSALS} generated proposals ({total_proposals} in all), "
        + ("VACUUM ANALYZE" if VACUUM else "ANALYZE only"),
        "shared cache: "
        + (
            f"Redis ({REDIS}: sessions, rate limits, kept pages)"
            if REDIS.lower() not in ("", "0", "none")
            else "none (per-process cache, sessions in the database)"
        ),
        f"gunicorn {WORKERS} sync workers each for the app and the floor; "
        f"`wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s` per page; "
        f"p50/p95 over {SAMPLES} sequential requests timed in the client",
        f"worker RSS after the run: app {app_rss} — goal ≤ 150 MB per worker: "
        f"{'met' if app_rss_max <= 150 else 'not met'}; floor {floor_rss}",
        others,
    ]
    notes = []
    if busy:
        notes.append("**The machine was busy with other work: these numbers are not reliable.**")
    if restarted:
        notes.append("Some app workers were restarted during the run (timeouts?).")
    text = report(facts, floor_start, floor_end, rows, notes)
    text += f"\nWall time of the run: {time.monotonic() - started:.0f} s.\n"
    out = ROOT / "var" / f"bench-{datetime.datetime.now():%Y%m%d-%H%M%S}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print("\n" + text)
    log(f"written to {out.relative_to(ROOT)}")


def main():
    if shutil.which("wrk") is None:
        sys.exit("bench needs wrk (apt-get install wrk)")
    # However it is stopped, clean up (SIGINT too: a background job starts with it ignored).
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.default_int_handler)
    admin = admin_connection()
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone()
    if exists or DB == TEMPLATE_DB:
        sys.exit(f"database {DB} exists: bench drops its database at the end, choose another")
    tmp = Path(tempfile.mkdtemp(prefix="tian-bench-"))
    try:
        run(admin, tmp)
    except BenchError as error:
        sys.exit(f"bench failed: {error}")
    except KeyboardInterrupt:
        sys.exit("bench interrupted")
    finally:
        drop_database(admin, DB)
        admin.close()
        shutil.rmtree(tmp, ignore_errors=True)
        log(f"dropped {DB}" + (f"; kept {TEMPLATE_DB}" if KEEP else ""))


if __name__ == "__main__":
    main()
