"""Fault-injection tests: a short version of each runs in ``make test``; ``make chaos`` runs
the full ones (``CHAOS_FULL=1``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import FlakyReceiver, OwnNats, ServiceProcess, stop_all

FULL = os.environ.get("CHAOS_FULL") == "1"


@pytest.fixture
def scale() -> int:
    """How many messages a chaos test sends: the short version or the full one."""
    return 10 if FULL else 1


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[OwnNats]:
    """A nats-server of the test's own: tests may kill it, and whole-stream assertions see
    only the test's messages."""
    server = OwnNats(tmp_path / "own-nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def receiver() -> Iterator[FlakyReceiver]:
    """A local webhook receiver for notify, started and stopped with the test."""
    receiver = FlakyReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def fleet() -> Iterator[list[ServiceProcess]]:
    """The service processes a test started; every one is stopped at teardown."""
    procs: list[ServiceProcess] = []
    try:
        yield procs
    finally:
        stop_all(procs)
