"""Backups of the database and the private media, checksummed, and their restore.

`manage.py backup` writes one directory (or with --archive one .tar) named
tian-backup-YYYYMMDD-HHMMSS (UTC) holding:

- `database.dump`: pg_dump's custom format (PostgreSQL), or `database.sqlite3`: a copy made
  with SQLite's online backup API (development; see README);
- `media/…`: every file under MEDIA_ROOT (DJANGO_PRIVATE_MEDIA_ROOT). Attachments stored in
  the database (DJANGO_ATTACHMENT_STORAGE=database) are in the dump already;
- `manifest.json`: the SHA-256 and size of every file, and the row count and a checksum of
  every table (and the value of every sequence) as the dump holds them;
- `SHA256SUMS`: the same file checksums for `sha256sum -c`.

The database is dumped first and the media copied after: a file is written before the
transaction that refers to it commits, so every file the dump refers to is in the copy.
On PostgreSQL the table checksums are taken in the very snapshot pg_dump dumps
(pg_export_snapshot), so `restore` can prove that it put back exactly what was dumped.

`manage.py restore PATH` checks every checksum before touching anything, refuses a
non-empty database (or MEDIA_ROOT) without --yes, replaces the database in one transaction
(pg_restore's script run by psql --single-transaction: a failure leaves it as it was), then
the media, and compares every table with the manifest.
"""

import datetime
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction

FORMAT = "tian-backup/1"
NAME_PATTERN = re.compile(r"^tian-backup-\d{8}-\d{6}(\.tar)?$")
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA = "media"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# --- checksums ---------------------------------------------------------------------------------


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_checksums(root):
    """{relative path: {"sha256", "size"}} of every file under root (none if it is missing)."""
    root = Path(root)
    found = {}
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            raise BackupError(f"{path} is a symbolic link; the private media hold files only.")
        if path.is_file():
            found[path.relative_to(root).as_posix()] = {
                "sha256": sha256_file(path),
                "size": path.stat().st_size,
            }
    return found


def table_checksums(using="default"):
    """{"tables": {name: {"rows", "sha256"}}, "sequences": {name: [last_value, is_called]}}:
    every row of every table, independent of row order."""
    connection = connections[using]
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            return _pg_checksums(cursor)
    if connection.vendor == "sqlite":
        return _sqlite_checksums(connection.connection)
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")


def _pg_relations(cursor, kinds):
    cursor.execute(
        "SELECT c.relname, c.relkind FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = ANY(%s) ORDER BY c.relname",
        [list(kinds)],
    )
    return cursor.fetchall()


def _pg_checksums(cursor):
    tables, sequences = {}, {}
    for name, _kind in _pg_relations(cursor, ["r", "p"]):
        quoted = '"' + name.replace('"', '""') + '"'
        # Each row's text (its columns in order), hashed; the sorted hashes, hashed again.
        cursor.execute(
            "SELECT count(*), encode(sha256(coalesce(string_agg(h, ''::bytea ORDER BY h), "
            f"''::bytea)), 'hex') FROM (SELECT sha256(convert_to(t::text, 'UTF8')) AS h "
            f"FROM {quoted} t) s"
        )
        rows, digest = cursor.fetchone()
        tables[name] = {"rows": rows, "sha256": digest}
    for name, _kind in _pg_relations(cursor, ["S"]):
        quoted = '"' + name.replace('"', '""') + '"'
        cursor.execute(f"SELECT last_value, is_called FROM {quoted}")
        last_value, is_called = cursor.fetchone()
        sequences[name] = [last_value, is_called]
    return {"tables": tables, "sequences": sequences}


def _sqlite_checksums(db):
    tables = {}
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_stat%' "
            "ORDER BY name"
        )
    ]
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({quoted})")]
        # quote(): each value as its SQL literal, untouched by the type converters Django's
        # connection applies (a datetime column read back as text would not compare).
        values = ", ".join('quote("' + c.replace('"', '""') + '")' for c in columns)
        hashes = sorted(
            hashlib.sha256("\x1f".join(row).encode()).digest()
            for row in db.execute(f"SELECT {values} FROM {quoted}")
        )
        tables[name] = {"rows": len(hashes), "sha256": hashlib.sha256(b"".join(hashes)).hexdigest()}
    # sqlite_sequence (AUTOINCREMENT's next ids) is a table here, compared like the others.
    return {"tables": tables, "sequences": {}}


def differences(expected, found):
    """Human-readable differences between two table_checksums() answers."""
    problems = []
    for kind in ("tables", "sequences"):
        want, have = expected.get(kind, {}), found.get(kind, {})
        for name in sorted(set(want) | set(have)):
            if name not in have:
                problems.append(f"{kind[:-1]} {name} is missing")
            elif name not in want:
                problems.append(f"{kind[:-1]} {name} is not in the backup")
            elif want[name] != have[name]:
                problems.append(f"{kind[:-1]} {name}: {have[name]} instead of {want[name]}")
    return problems


# --- backing up --------------------------------------------------------------------------------


def database_settings(using="default"):
    return connections[using].settings_dict


def pg_environment(db):
    """libpq's environment for pg_dump/pg_restore/psql, from Django's database settings."""
    env = os.environ.copy()
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if db.get(key):
            env[name] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    env["PGDATABASE"] = db["NAME"]
    options = db.get("OPTIONS", {})
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if options.get(key):
            env["PG" + key.upper()] = str(options[key])
    env["PGAPPNAME"] = "tian-backup"
    env.pop("PGOPTIONS", None)
    return env


def run(command, env=None, what=None):
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed: install PostgreSQL's client programs "
            "(Debian: apt-get install postgresql-client, of the server's major version)."
        ) from None
    if result.returncode != 0:
        raise BackupError(f"{what or command[0]} failed: {result.stderr.strip()[-2000:]}")
    return result


def media_root():
    return Path(settings.MEDIA_ROOT)


def new_backup_name(now=None):
    now = now or datetime.datetime.now(datetime.UTC)
    return now.strftime("tian-backup-%Y%m%d-%H%M%S")


def create_backup(output, archive=False, keep=None, using="default"):
    """Write a backup into the directory `output`. Returns its path."""
    output = Path(output).resolve()
    media = media_root().resolve()
    if output == media or media in output.parents:
        raise BackupError(
            f"The backup directory {output} is inside MEDIA_ROOT ({media}): choose another."
        )
    output.mkdir(parents=True, exist_ok=True)
    name = new_backup_name()
    final = output / (name + (".tar" if archive else ""))
    if final.exists() or (output / name).exists():
        raise BackupError(f"{final} exists already: wait a second and run again.")
    # Written under a hidden name, renamed when complete: a half-written backup never
    # looks like a backup (nor is counted by --keep).
    work = output / f".{name}.partial"
    work.mkdir(mode=0o700)
    try:
        manifest = {
            "format": FORMAT,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "media_root": str(media),
            "attachment_storage": getattr(settings, "ATTACHMENT_STORAGE", "filesystem"),
        }
        manifest["database"] = _dump_database(work, using)
        (work / MEDIA).mkdir(mode=0o700)
        _copy_media(media, work / MEDIA)
        files = file_checksums(work)
        manifest["files"] = files
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
        sums = dict(files)
        sums[MANIFEST] = {"sha256": sha256_file(work / MANIFEST)}
        (work / SUMS).write_text(
            "".join(f"{entry['sha256']}  {path}\n" for path, entry in sorted(sums.items()))
        )
        if archive:
            partial_tar = output / f".{name}.tar.partial"
            with tarfile.open(partial_tar, "w") as tar:
                tar.add(work, arcname=name)
            partial_tar.chmod(0o600)
            partial_tar.rename(final)
            shutil.rmtree(work)
        else:
            work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        for leftover in output.glob(f".{name}.tar.partial"):
            leftover.unlink()
        raise
    if keep:
        prune(output, keep)
    return final


def _dump_database(work, using):
    connection = connections[using]
    connection.ensure_connection()
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using), connection.cursor() as cursor:
            # One snapshot for pg_dump and for the checksums of what it dumps.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, version = cursor.fetchone()
            run(
                ["pg_dump", "--format=custom", f"--snapshot={snapshot}", "-f", str(work / PG_DUMP)],
                env=pg_environment(db),
                what="pg_dump",
            )
            checksums = _pg_checksums(cursor)
        return {
            "vendor": "postgresql",
            "name": db["NAME"],
            "server_version": version,
            "file": PG_DUMP,
            **checksums,
        }
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(work / SQLITE_COPY)
        try:
            connection.connection.backup(copy)
            checksums = _sqlite_checksums(copy)
        finally:
            copy.close()
        return {"vendor": "sqlite", "name": str(db["NAME"]), "file": SQLITE_COPY, **checksums}
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")


def _copy_media(source, target):
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_symlink():
            raise BackupError(f"{path} is a symbolic link; the private media hold files only.")
        if path.is_dir():
            (target / relative).mkdir(mode=0o700, exist_ok=True)
        elif path.is_file():
            (target / relative).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)


def backups_in(directory):
    """The complete backups in a directory, oldest first (their names sort by time)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if NAME_PATTERN.match(p.name))


def prune(directory, keep):
    """Delete all but the newest `keep` backups in the directory. Returns the deleted."""
    if keep < 1:
        raise BackupError("--keep must be at least 1.")
    backups = backups_in(directory)
    doomed = backups[:-keep] if len(backups) > keep else []
    for path in doomed:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return doomed


# --- checking and restoring -----------------------------------------------------------------


def open_backup(path, scratch):
    """The backup's directory (a .tar is unpacked into `scratch`) and its manifest, once
    every checksum matches. Raises BackupError otherwise."""
    path = Path(path)
    if path.is_file() and tarfile.is_tarfile(path):
        with tarfile.open(path) as tar:
            tar.extractall(scratch, filter="data")
        entries = [p for p in Path(scratch).iterdir()]
        if len(entries) != 1 or not entries[0].is_dir():
            raise BackupError(f"{path} does not hold one backup directory.")
        path = entries[0]
    if not path.is_dir():
        raise BackupError(f"{path} is neither a backup directory nor a backup .tar.")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{path} has no {MANIFEST}: it is not a backup, or an incomplete one.")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{manifest_path} is damaged: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{manifest_path} is not a manifest of {FORMAT}.")
    if not all(isinstance(manifest.get(key), dict) for key in ("database", "files")):
        raise BackupError(f"{manifest_path} is incomplete: it names no database or files.")
    problems = []
    sums = path / SUMS
    if sums.is_file():
        listed = {}
        for line in sums.read_text(errors="replace").splitlines():
            digest, _sep, name = line.partition("  ")
            listed[name] = digest
        if listed.get(MANIFEST) != sha256_file(manifest_path):
            problems.append(f"{MANIFEST} does not match its checksum in {SUMS}")
    found = file_checksums(path)
    found.pop(MANIFEST, None)
    found.pop(SUMS, None)
    expected = manifest.get("files", {})
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            problems.append(f"{name} is missing")
        elif name not in expected:
            problems.append(f"{name} is not in the manifest")
        elif found[name] != expected[name]:
            problems.append(f"{name} does not match its checksum")
    if manifest.get("database", {}).get("file") not in expected:
        problems.append("the manifest names no database file")
    if problems:
        raise BackupError(
            "The backup is damaged or was changed; nothing was restored:\n  "
            + "\n  ".join(problems)
        )
    return path, manifest


def current_contents(using="default"):
    """(tables in the database, files under MEDIA_ROOT): what a restore would replace."""
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    files = sum(1 for p in media_root().rglob("*") if p.is_file()) if media_root().is_dir() else 0
    return tables, files


def restore_backup(path, yes=False, using="default"):
    """Check, then restore a backup. Returns the manifest. Raises BackupError."""
    connection = connections[using]
    with tempfile.TemporaryDirectory(prefix="tian-restore-") as scratch:
        directory, manifest = open_backup(path, scratch)
        database = manifest["database"]
        if database.get("vendor") != connection.vendor:
            raise BackupError(
                f"This is a {database.get('vendor')} backup; the database is "
                f"{connection.vendor}. Restore it into a {database.get('vendor')} database."
            )
        tables, files = current_contents(using)
        if (tables or files) and not yes:
            raise BackupError(
                f"The database {connection.settings_dict['NAME']} has {len(tables)} tables and "
                f"MEDIA_ROOT ({media_root()}) {files} files. Restoring replaces them all with "
                "the backup: run again with --yes if that is what you want."
            )
        if connection.in_atomic_block:
            raise BackupError("Restore runs outside any transaction.")
        if connection.vendor == "postgresql":
            _restore_postgresql(directory / database["file"], connection, scratch)
        else:
            _restore_sqlite(directory / database["file"], connection)
        _restore_media(directory / MEDIA, media_root())
        cache.clear()  # cached pages and counts of the database that was replaced
        problems = differences(database, table_checksums(using))
        if problems:
            raise BackupError(
                "The database was restored but differs from the backup:\n  "
                + "\n  ".join(problems[:50])
            )
        found_media = file_checksums(media_root())
        expected_media = {
            name.removeprefix(MEDIA + "/"): entry
            for name, entry in manifest["files"].items()
            if name.startswith(MEDIA + "/")
        }
        if found_media != expected_media:
            raise BackupError("The media were restored but differ from the backup.")
    return manifest


def _restore_postgresql(dump, connection, scratch):
    env = pg_environment(connection.settings_dict)
    script = Path(scratch) / "restore.sql"
    # pg_restore turns the dump into SQL; psql runs it after dropping what is there, all in
    # one transaction: if anything fails, the database is as it was.
    run(
        ["pg_restore", "--no-owner", "--no-privileges", "-f", str(script), str(dump)],
        env=env,
        what="pg_restore",
    )
    with connection.cursor() as cursor:
        relations = _pg_relations(cursor, ["r", "p", "v", "m", "S", "f"])
        # The schema's own functions (e.g. the security record's guard trigger), not an
        # extension's: the dump creates them again.
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND NOT EXISTS ("
            "  SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        )
        functions = [row[0] for row in cursor.fetchall()]
    kinds = {
        "r": "TABLE",
        "p": "TABLE",
        "f": "FOREIGN TABLE",
        "v": "VIEW",
        "m": "MATERIALIZED VIEW",
        "S": "SEQUENCE",
    }
    drops = Path(scratch) / "drop.sql"
    drops.write_text(
        "".join(
            f'DROP {kinds[kind]} IF EXISTS "{name.replace(chr(34), chr(34) * 2)}" CASCADE;\n'
            for name, kind in relations
        )
        + "".join(f"DROP FUNCTION IF EXISTS {signature} CASCADE;\n" for signature in functions)
    )
    connection.close()  # no session of ours holds a lock on what is dropped
    run(
        [
            "psql",
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            "-f",
            str(drops),
            "-f",
            str(script),
        ],
        env=env,
        what="psql (restoring the dump)",
    )


def _restore_sqlite(copy, connection):
    connection.ensure_connection()
    source = sqlite3.connect(copy)
    try:
        source.backup(connection.connection)
    finally:
        source.close()


def _restore_media(source, target):
    """Replace the contents of MEDIA_ROOT (not the directory: it may be a mount point)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in target.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
