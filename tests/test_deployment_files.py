"""The files in deploy/ are valid for the tools that read them: systemd and nginx.

Each check skips where its tool is not installed (`apt-get install nginx-light`)."""

import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())


def test_every_service_has_its_timer_or_socket():
    names = {unit.name for unit in UNITS}
    assert {"tian.service", "tian.socket"} <= names
    for timer in (unit for unit in UNITS if unit.suffix == ".timer"):
        assert timer.with_suffix(".service").name in names


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_a_systemd_unit_is_valid(unit, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    for other in UNITS:
        shutil.copy(other, tmp_path / other.name)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / unit.name)], capture_output=True, text=True
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        # /srv/tian is where the application is installed, not on this machine.
        if line.strip() and "is not executable" not in line and "/srv/tian" not in line
    ]
    assert problems == []


def test_the_timers_run_in_beijing_time():
    for timer in (unit for unit in UNITS if unit.suffix == ".timer"):
        assert re.search(r"^OnCalendar=.* Asia/Shanghai$", timer.read_text(), re.M)


def nginx_site(tmp_path, upstream=None, port=None):
    """deploy/nginx/tian.conf made runnable here: a self-signed certificate, paths in
    tmp_path, and (for a live run) the given upstream and port."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + [
            "-subj",
            "/CN=localhost",
            "-keyout",
            tmp_path / "key.pem",
            "-out",
            tmp_path / "cert.pem",
        ],
        check=True,
        capture_output=True,
    )
    site = (
        (DEPLOY / "nginx" / "tian.conf")
        .read_text()
        .replace("/etc/ssl/tian/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/tian/privkey.pem", str(tmp_path / "key.pem"))
        .replace("/var/cache/nginx/tian", str(tmp_path / "cache"))
    )
    if upstream:
        site = site.replace("unix:/run/tian/gunicorn.sock", upstream)
        site = re.sub(r"listen (\[::\]:)?80;", "", site)
        site = site.replace("listen [::]:443 ssl http2;", "")
        site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl;")
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy")
    ) + " ".join(f" {kind}_temp_path {tmp_path}/{kind};" for kind in ("fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        # As root, nginx's workers would run as nobody, who may not enter pytest's tmp_path.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\ndaemon off;\n"
        "events {}\n"
        f"http {{ access_log off; {temp} include {tmp_path}/site.conf; }}\n"
    )
    return ["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]


def test_the_nginx_site_is_valid(tmp_path):
    if not shutil.which("nginx"):
        pytest.skip("nginx is not installed")
    site = (DEPLOY / "nginx" / "tian.conf").read_text()
    assert "client_max_body_size 12m;" in site
    result = subprocess.run([*nginx_site(tmp_path), "-t", "-q"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_only_the_public_columns_location_caches():
    site = (DEPLOY / "nginx" / "tian.conf").read_text()
    cached = re.findall(r"location ([^{]+)\{[^}]*proxy_cache tian_public;", site)
    assert cached == ["~ ^/(replies/.*)?$ "]
    pattern = re.compile(r"^/(replies/.*)?$")
    for path in ["/", "/replies/1/", "/replies/feed/"]:
        assert pattern.match(path)
    for path in ["/work/", "/admin/", "/r/abc/", "/accounts/login/", "/healthz"]:
        assert not pattern.match(path)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url, cookie=None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    context = ssl._create_unverified_context()
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, response.headers.get("X-Cache-Status")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("X-Cache-Status")


def test_nginx_caches_the_public_column_for_anonymous_readers_only(
    transactional_db, live_server, tmp_path
):
    if not shutil.which("nginx"):
        pytest.skip("nginx is not installed")
    call_command("load_demo", "--force", stdout=StringIO())
    port = free_port()
    upstream = live_server.url.removeprefix("http://")
    nginx = subprocess.Popen(nginx_site(tmp_path, upstream=upstream, port=port))
    try:
        base = f"https://127.0.0.1:{port}"
        for _ in range(50):
            try:
                fetch(base + "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        assert fetch(base + "/") == (200, "MISS")
        assert fetch(base + "/") == (200, "HIT")
        assert fetch(base + "/replies/feed/") == (200, "MISS")
        assert fetch(base + "/replies/feed/") == (200, "HIT")
        # Logged in, or just after a POST: past the cache, to the app.
        assert fetch(base + "/", cookie="sessionid=abc") == (200, "BYPASS")
        assert fetch(base + "/", cookie="csrftoken=x; tian_primary=1") == (200, "BYPASS")
        # Staff pages, receipt links, the admin: never through the cache at all.
        for path in ["/work/", "/r/no-such-token/", "/admin/", "/healthz"]:
            assert fetch(base + path)[1] is None
            assert fetch(base + path)[1] is None
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
