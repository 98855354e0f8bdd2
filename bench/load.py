"""`make load`: a bounded load test of the app on PostgreSQL, on loopback; it stops by itself.

For LOAD_SECONDS (default 300): LOAD_READERS (64) anonymous clients read the public column,
its pages, published replies and, where the code has it, /search/; a while in, LOAD_RECEIPTS
(200) proposers open their personal receipt links and submit them at the same moment, each
twice at once (a double click); meanwhile committee staff assign LOAD_ACCEPTED (300)
accepted proposals at the assignment meeting page in batches. Then it checks in the
database that every receipt was stored exactly once and every proposal assigned once,
prints throughput, p50/p95 per kind of request and the count of 5xx answers, writes the
report to var/load-<timestamp>.md, and exits non-zero if anything failed.

The database, the demo, the generated data, collectstatic, gunicorn with production
settings and the clean-up are bench/run.py's (`make bench`), configured through its BENCH_*
variables, which the LOAD_* ones below set. See bench/README.md.
"""

import datetime
import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote, urlencode

SECONDS = int(os.environ.get("LOAD_SECONDS", "300"))
READERS = int(os.environ.get("LOAD_READERS", "64"))
RECEIPTS = int(os.environ.get("LOAD_RECEIPTS", "200"))
ACCEPTED = int(os.environ.get("LOAD_ACCEPTED", "300"))
BATCH = int(os.environ.get("LOAD_BATCH", "50"))  # proposals ticked per assignment POST
# bench/run.py reads its configuration when imported: give it the load test's.
os.environ.setdefault("BENCH_DB", f"tian_load_{os.getpid()}")
os.environ.setdefault("BENCH_PROPOSALS", os.environ.get("LOAD_PROPOSALS", "20000"))
os.environ.setdefault("BENCH_WORKERS", os.environ.get("LOAD_WORKERS", "3"))
os.environ.setdefault(
    "BENCH_REDIS_URL", os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/12")
)
os.environ["BENCH_KEEP"] = "0"

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402

SEARCH_WORDS = ["高新区", "教育", "养老", "交通", "乡村振兴", "医疗"]
TIMEOUT = 120


def log(message):
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Stats:
    """Every request's kind, status (0: no answer) and seconds."""

    def __init__(self):
        self.rows = []
        self.lock = threading.Lock()
        self.failures = []  # (kind, what) for answers that were not what the step expects

    def add(self, kind, status, seconds):
        with self.lock:
            self.rows.append((kind, status, seconds))

    def fail(self, kind, what):
        with self.lock:
            if len(self.failures) < 1000:
                self.failures.append((kind, what))


def request(port, stats, kind, path, method="GET", body=None, headers=None):
    """(status, response, body) of one request on a new connection, timed into `stats`."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
    except OSError as error:
        stats.add(kind, 0, time.perf_counter() - started)
        stats.fail(kind, f"{method} {path}: {error!r}")
        return 0, None, b""
    finally:
        conn.close()
    stats.add(kind, response.status, time.perf_counter() - started)
    if response.status >= 500:
        stats.fail(kind, f"{method} {path}: {response.status} {data[:200]!r}")
    return response.status, response, data


# --- the clients -------------------------------------------------------------------------------


def reader(port, stats, fixtures, deadline, seed):
    rng = random.Random(seed)
    kinds = ["column", "column page", "reply"] + (["search"] if fixtures["search"] else [])
    while time.monotonic() < deadline:
        kind = rng.choice(kinds)
        if kind == "column":
            path = "/"
        elif kind == "column page":
            path = f"/?page={rng.randint(2, fixtures['pages'])}" if fixtures["pages"] > 1 else "/"
        elif kind == "reply":
            path = f"/replies/{rng.choice(fixtures['letters'])}/"
        else:
            path = f"/search/?q={quote(rng.choice(SEARCH_WORDS))}"
        status, _response, _body = request(port, stats, kind, path)
        if status not in (200, 0) and status < 500:
            stats.fail(kind, f"GET {path}: {status}")


def proposer(port, stats, receipt, barrier, results):
    """Open the personal link, wait for everyone, submit."""
    url = receipt["url"]
    status, response, body = request(port, stats, "receipt form", url)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None:
        stats.fail("receipt form", f"GET {url}: {status}")
        barrier.abort()
        return
    csrf = bench.cookies_of(response).get("csrftoken", "")
    form = {
        "csrfmiddlewaretoken": token.group(1).decode(),
        "contacted": "yes",
        "contact_method": "phone",
        "leader_took_part": "no",
        "attitude": "satisfied",
        "result": "satisfied",
        "opinion": "",
    }
    try:
        barrier.wait(timeout=TIMEOUT)
    except threading.BrokenBarrierError:
        return
    status, _response, body = request(
        port,
        stats,
        "receipt submit",
        url,
        "POST",
        urlencode(form),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"},
    )
    results.append((receipt["id"], status))
    # 302: this click stored it; 200: the other click had (the page shows what was submitted).
    if status not in (200, 302):
        stats.fail("receipt submit", f"POST {url}: {status}")


def receipts_burst(port, stats, fixtures):
    """Every proposer at once, each clicking twice: 2 × LOAD_RECEIPTS threads, one barrier."""
    receipts = fixtures["receipts"]
    barrier = threading.Barrier(2 * len(receipts))
    results = []
    threads = [
        threading.Thread(target=proposer, args=(port, stats, r, barrier, results))
        for r in receipts
        for _click in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored_by_click = Counter(receipt_id for receipt_id, status in results if status == 302)
    return results, stored_by_click


def assignment_meeting(port, stats, fixtures, cookie, done):
    """Staff tick LOAD_BATCH proposals at a time and assign them to one lead unit."""
    csrf = re.search(r"csrftoken=([^;]+)", cookie).group(1)
    headers = {"Cookie": cookie}
    accepted, units = fixtures["accepted"], fixtures["units"]
    for n, start in enumerate(range(0, len(accepted), BATCH)):
        status, _response, _body = request(
            port, stats, "assignment page", "/work/proposals/assign/", headers=headers
        )
        if status != 200:
            stats.fail("assignment page", f"GET: {status}")
        batch = accepted[start : start + BATCH]
        form = [
            ("csrfmiddlewaretoken", csrf),
            *(("proposals", str(pk)) for pk in batch),
            ("mode", "single"),
            ("lead", str(units[n % len(units)])),
            ("comment", "交办会（负载测试）"),
        ]
        status, response, body = request(
            port,
            stats,
            "assign in bulk",
            "/work/proposals/assign/",
            "POST",
            urlencode(form),
            {**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        if status == 302:
            done.extend(batch)
        else:
            error = re.search(rb'class="error"[^>]*>([^<]+)<', body or b"")
            stats.fail(
                "assign in bulk",
                f"POST of {len(batch)}: {status} "
                + (error.group(1).decode(errors="replace") if error else ""),
            )


# --- the checks in the database ----------------------------------------------------------------


def check_database(fixtures):
    """Lines saying what the database holds after the run, and whether all is as it should be."""
    import psycopg

    receipt_ids = [r["id"] for r in fixtures["receipts"]]
    proposal_ids = fixtures["accepted"]
    ok = True
    lines = []
    with psycopg.connect(bench.database_url(bench.DB)) as conn:
        (submitted,) = conn.execute(
            "SELECT count(*) FROM replies_receipt WHERE id = ANY(%s) AND submitted_at IS NOT NULL",
            [receipt_ids],
        ).fetchone()
        events = dict(
            conn.execute(
                "SELECT object_id, count(*) FROM proposals_event WHERE verb = 'receipt_submitted' "
                "AND object_type = 'receipt' AND object_id = ANY(%s) GROUP BY object_id",
                [receipt_ids],
            ).fetchall()
        )
        once = sum(1 for pk in receipt_ids if events.get(pk) == 1)
        twice = sum(1 for pk in receipt_ids if events.get(pk, 0) > 1)
        lines.append(
            f"receipts: {submitted} of {len(receipt_ids)} stored; recorded exactly once: "
            f"{once}; more than once: {twice}; lost: {len(receipt_ids) - submitted}"
        )
        ok &= submitted == len(receipt_ids) == once and twice == 0
        (assigned,) = conn.execute(
            "SELECT count(*) FROM proposals_proposal WHERE id = ANY(%s) AND state = 'assigned'",
            [proposal_ids],
        ).fetchone()
        per_proposal = dict(
            conn.execute(
                "SELECT proposal_id, count(*) FROM proposals_assignment "
                "WHERE proposal_id = ANY(%s) AND is_active GROUP BY proposal_id",
                [proposal_ids],
            ).fetchall()
        )
        (assigned_events,) = conn.execute(
            "SELECT count(*) FROM proposals_event WHERE verb = 'assigned' AND proposal_id = ANY(%s)",
            [proposal_ids],
        ).fetchone()
        single = sum(1 for pk in proposal_ids if per_proposal.get(pk) == 1)
        lines.append(
            f"assignment meeting: {assigned} of {len(proposal_ids)} proposals assigned, "
            f"{single} with exactly one active assignment, {assigned_events} 'assigned' events"
        )
        ok &= assigned == single == assigned_events == len(proposal_ids)
    return lines, ok


# --- the report --------------------------------------------------------------------------------


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def report(stats, seconds, facts, checks, ok):
    by_kind = defaultdict(list)
    statuses = defaultdict(Counter)
    for kind, status, took in stats.rows:
        by_kind[kind].append(took * 1000)
        statuses[kind][status] += 1
    total = len(stats.rows)
    errors_5xx = sum(1 for _k, status, _t in stats.rows if status >= 500)
    no_answer = sum(1 for _k, status, _t in stats.rows if status == 0)
    lines = [
        f"# Load test {datetime.datetime.now():%Y-%m-%d %H:%M}",
        "",
        *(f"- {fact}" for fact in facts),
        f"- {total} requests in {seconds:.0f} s: **{total / seconds:.1f} req/s**; "
        f"**5xx: {errors_5xx}**; no answer: {no_answer}",
        "",
        "| kind | requests | req/s | p50 ms | p95 ms | max ms | answers |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind in sorted(by_kind, key=lambda k: -len(by_kind[k])):
        times = by_kind[kind]
        answers = ", ".join(f"{s or 'none'} × {n}" for s, n in sorted(statuses[kind].items()))
        lines.append(
            f"| {kind} | {len(times)} | {len(times) / seconds:.1f} | {percentile(times, 50):.1f} "
            f"| {percentile(times, 95):.1f} | {max(times):.0f} | {answers} |"
        )
    lines += ["", *(f"- {line}" for line in checks)]
    if stats.failures:
        lines += ["", "Unexpected answers (first 20):"]
        lines += [f"- {kind}: {what}" for kind, what in stats.failures[:20]]
    lines += ["", f"**{'PASSED' if ok else 'FAILED'}**"]
    return "\n".join(lines) + "\n"


# --- the run -----------------------------------------------------------------------------------


def run(admin, tmp):
    started = time.monotonic()
    base_env = bench.clean_env()
    load_env = {**base_env, "DJANGO_DEBUG": "1", "DJANGO_VAR_DIR": str(tmp / "var")}
    serve_env = {
        **base_env,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": bench.secrets.token_urlsafe(50),
        "DJANGO_FIELD_ENCRYPTION_KEYS": bench.DEVELOPMENT_FIELD_KEY,
        "TIAN_SMS_CONSOLE_ALLOWED": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": bench.database_url(bench.DB),
        # All 200 proposers come from 127.0.0.1 here; in life from 200 addresses.
        "TIAN_RECEIPT_RATE_LIMIT": "100000",
    }
    redis_url = bench.shared_cache()
    if redis_url:
        serve_env["DJANGO_REDIS_URL"] = redis_url
    bench.prepare_database(admin, load_env)
    bench.manage(serve_env, "collectstatic", "--noinput", "-v", "0")
    log(
        f"making {ACCEPTED} accepted proposals and {RECEIPTS} receipt links (bench/load_fixtures.py)"
    )
    output = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            (bench.ROOT / "bench" / "load_fixtures.py").read_text(),
        ],
        cwd=bench.ROOT,
        env={**serve_env, "LOAD_RECEIPTS": str(RECEIPTS), "LOAD_ACCEPTED": str(ACCEPTED)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fixtures = json.loads(output.strip().splitlines()[-1])
    with bench.psycopg.connect(bench.database_url(bench.DB), autocommit=True) as conn:
        conn.execute("ANALYZE")
    app = bench.Server("app", "config.wsgi", bench.ROOT, serve_env, tmp / "app.log")
    stats = Stats()
    try:
        app.start()
        app.wait_ready("/healthz")
        workers_before = app.workers()
        log(f"app on :{app.port}, {bench.WORKERS} workers; {READERS} readers for {SECONDS} s")
        cookie = bench.login(app.port, "tiwei")
        began = time.monotonic()
        deadline = began + SECONDS
        readers = [
            threading.Thread(target=reader, args=(app.port, stats, fixtures, deadline, i))
            for i in range(READERS)
        ]
        for thread in readers:
            thread.start()
        time.sleep(min(20, SECONDS / 5))
        log(f"{len(fixtures['receipts'])} proposers submit, twice each; staff assign in bulk")
        assigned = []
        meeting = threading.Thread(
            target=assignment_meeting, args=(app.port, stats, fixtures, cookie, assigned)
        )
        meeting.start()
        burst_started = time.monotonic()
        results, stored_by_click = receipts_burst(app.port, stats, fixtures)
        log(f"receipts burst over in {time.monotonic() - burst_started:.1f} s")
        meeting.join()
        log(f"assignment meeting over: {len(assigned)} proposals assigned")
        for thread in readers:
            thread.join()
        seconds = time.monotonic() - began
        restarted = app.workers() != workers_before
    except Exception:
        print(app.log_tail(), file=sys.stderr)
        raise
    finally:
        app.stop()
    checks, ok = check_database(fixtures)
    clicks = Counter(stored_by_click.values())
    checks.insert(
        0,
        f"receipt clicks answered 302 (stored by this click): {sum(stored_by_click.values())} "
        f"of {len(results)} clicks; receipts stored by one click {clicks.get(1, 0)}, "
        f"by two {clicks.get(2, 0)}",
    )
    ok &= clicks.get(2, 0) == 0
    ok &= not any(status >= 500 for _k, status, _t in stats.rows)
    ok &= not stats.failures
    if restarted:
        checks.append("**gunicorn restarted workers during the run (timeouts?)**")
        ok = False
    facts = [
        f"code: {bench.git_version()}",
        f"machine: {bench.machine()}; load average at the end "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        f"data: the demo + {bench.PROPOSALS} generated proposals; "
        f"{len(fixtures['receipts'])} receipt links ({fixtures['distinct_proposers']} "
        f"proposers), {len(fixtures['accepted'])} accepted proposals",
        f"gunicorn {bench.WORKERS} sync workers, production settings, shared cache "
        + (redis_url or "none"),
        f"{READERS} reading clients for {SECONDS} s (public column, its pages, replies"
        + (", /search/" if fixtures["search"] else "; /search/ does not exist on this code")
        + f"); after {min(20, SECONDS / 5):.0f} s, {len(fixtures['receipts'])} proposers submit "
        f"their receipts at once, each twice; staff assign {ACCEPTED} proposals in batches of "
        f"{BATCH} meanwhile",
    ]
    text = report(stats, seconds, facts, checks, ok)
    text += f"\nWall time of the run: {time.monotonic() - started:.0f} s.\n"
    out = bench.ROOT / "var" / f"load-{datetime.datetime.now():%Y%m%d-%H%M%S}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print("\n" + text)
    log(f"written to {out.relative_to(bench.ROOT)}")
    return ok


def main():
    for signum in (bench.signal.SIGINT, bench.signal.SIGTERM, bench.signal.SIGHUP):
        bench.signal.signal(signum, bench.signal.default_int_handler)
    admin = bench.admin_connection()
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench.DB]).fetchone()
    if exists:
        sys.exit(f"database {bench.DB} exists: load drops its database at the end, choose another")
    tmp = Path(tempfile.mkdtemp(prefix="tian-load-"))
    ok = False
    try:
        ok = run(admin, tmp)
    except bench.BenchError as error:
        sys.exit(f"load failed: {error}")
    except KeyboardInterrupt:
        sys.exit("load interrupted")
    finally:
        bench.drop_database(admin, bench.DB)
        admin.close()
        bench.shutil.rmtree(tmp, ignore_errors=True)
        log(f"dropped {bench.DB}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
