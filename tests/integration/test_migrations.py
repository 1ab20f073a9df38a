"""The migration runner on real PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from services.runtime.migrations import migrate
from tests.conftest import Servers

pytestmark = pytest.mark.integration


async def test_migrations_apply_once_in_order_and_an_edited_one_is_refused(
    servers: Servers, tmp_path: Path
) -> None:
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE things (id int);")
    (tmp_path / "0002_second.sql").write_text("ALTER TABLE things ADD COLUMN name text;")
    assert await migrate(servers.database_url, schema, tmp_path) == [0, 1, 2]
    assert await migrate(servers.database_url, schema, tmp_path) == []
    with psycopg.connect(servers.database_url) as conn:
        cur = conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'things' ORDER BY ordinal_position",
            (schema,),
        )
        assert [row[0] for row in cur.fetchall()] == ["id", "name"]

    (tmp_path / "0001_first.sql").write_text("CREATE TABLE things (id bigint);")
    with pytest.raises(RuntimeError, match="edited after it was applied"):
        await migrate(servers.database_url, schema, tmp_path)
