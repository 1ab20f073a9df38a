"""Servers for the backup tests: the system backed up runs on a NATS server of its own and a
database on the session's PostgreSQL; the restore goes to a second PostgreSQL server and a NATS
server that start empty."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.runtime import embedded
from tests.conftest import Servers, _fresh_database
from tests.e2e.stack import Receiver, Stack


# Started once for the folder (it takes seconds): one test restores into its first database,
# the other into a database of its own.
@pytest.fixture(scope="package")
def second_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second PostgreSQL server (not the session's), on a free port; stopped at teardown."""
    root = tmp_path_factory.mktemp("restore-pg")
    port = embedded.free_port()
    proc = embedded.start_postgres(port, root / "pg", root / "postgres.log")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        embedded.stop(proc)


@pytest.fixture
def empty_nats(tmp_path: Path) -> Iterator[str]:
    port = embedded.free_port()
    proc = embedded.start_nats(port, tmp_path / "nats-target", tmp_path / "nats-target.log")
    try:
        yield f"nats://127.0.0.1:{port}"
    finally:
        embedded.stop(proc)


@pytest.fixture
def source(servers: Servers, tmp_path: Path) -> Iterator[Servers]:
    """What is backed up: a NATS server of its own and a database on the session's PostgreSQL."""
    port = embedded.free_port()
    proc = embedded.start_nats(port, tmp_path / "nats-source", tmp_path / "nats-source.log")
    try:
        yield Servers(
            nats_url=f"nats://127.0.0.1:{port}",
            database_url=_fresh_database(servers, "backup_src"),
            root=tmp_path,
        )
    finally:
        embedded.stop(proc)


@pytest.fixture
async def running_source(source: Servers) -> AsyncIterator[Stack]:
    receiver = Receiver()
    receiver.start()
    stack = Stack(source.nats_url, source.database_url, source.root / "source-logs", receiver)
    try:
        await asyncio.to_thread(stack.start)
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)
        receiver.stop()
