"""The files in deploy/ are valid for the tools that read them: systemd and nginx.

Each check skips where its tool is not installed (`apt-get install nginx-light`)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

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


def test_the_nginx_site_is_valid_and_never_caches_the_staff_or_receipt_pages(tmp_path):
    if not shutil.which("nginx"):
        pytest.skip("nginx is not installed")
    site = (DEPLOY / "nginx" / "tian.conf").read_text()
    assert "client_max_body_size 12m;" in site
    # Only the public column's location caches.
    cached = re.findall(r"location ([^{]+)\{[^}]*proxy_cache tian_public;", site)
    assert cached == ["~ ^/(replies/.*)?$ "]
    pattern = re.compile(r"^/(replies/.*)?$")
    for path in ["/", "/replies/1/", "/replies/feed/"]:
        assert pattern.match(path)
    for path in ["/work/", "/admin/", "/r/abc/", "/accounts/login/", "/healthz"]:
        assert not pattern.match(path)

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
        site.replace("/etc/ssl/tian/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/tian/privkey.pem", str(tmp_path / "key.pem"))
        .replace("/var/cache/nginx/tian", str(tmp_path / "cache"))
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
