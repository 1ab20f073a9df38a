"""Fixtures shared by the integration tests (the servers themselves are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest

from tests.conftest import Servers


@pytest.fixture
async def js(servers: Servers) -> AsyncIterator[Any]:
    """A JetStream context on the session's NATS server, for publishing and inspecting."""
    nc = await nats.connect(servers.nats_url)
    try:
        yield nc.jetstream()
    finally:
        await nc.drain()
