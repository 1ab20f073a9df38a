"""A small versioned-SQL migration runner, one schema per service.

Why not a library: the maintained ones (alembic, yoyo) are synchronous, want their own
connection handling and know nothing of our one-schema-per-service rule; this runner is ~50 lines,
applies ``NNNN_name.sql`` files in order inside one transaction each, and takes a transaction-level
advisory lock so two replicas starting together never apply a migration twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)
COMMON = Path(__file__).parent / "0000_runtime_common.sql"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files(folder: Path) -> list[tuple[int, Path]]:
    """The ``NNNN_name.sql`` files of ``folder`` in version order; versions must be unique."""
    found: dict[int, Path] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version == 0:
            raise ValueError("version 0000 is reserved for the runtime's common tables")
        if version in found:
            raise ValueError(f"two migrations share version {version}: {found[version].name}")
        found[version] = path
    return sorted(found.items())


async def migrate(url: str, schema: str, folder: Path) -> list[int]:
    """Create ``schema`` if needed and apply the pending migrations; returns what was applied."""
    applied_now: list[int] = []
    lock_key = int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True)
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
        ident = sql.Identifier(schema)
        await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.schema_migrations ("
                " version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(ident)
        )
        cur = await conn.execute(
            sql.SQL("SELECT version, checksum FROM {}.schema_migrations").format(ident)
        )
        done = {row[0]: row[1] for row in await cur.fetchall()}
        await conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(ident))
        for version, path in [(0, COMMON), *migration_files(folder)]:
            text = path.read_text(encoding="utf-8")
            checksum = hashlib.sha256(text.encode()).hexdigest()
            if version in done:
                if done[version] != checksum:
                    raise RuntimeError(
                        f"migration {path.name} of schema {schema} was edited after it was"
                        " applied: add a new migration instead"
                    )
                continue
            await conn.execute(text.encode())
            await conn.execute(
                sql.SQL(
                    "INSERT INTO {}.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"
                ).format(ident),
                (version, path.name, checksum),
            )
            applied_now.append(version)
            log.info("applied migration", extra={"schema": schema, "migration": path.name})
    return applied_now
