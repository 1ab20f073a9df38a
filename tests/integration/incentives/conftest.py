"""The incentives service on the session's real NATS and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Servers

from .support import Incentives, replica


@pytest.fixture
async def incentives(server_env: Servers) -> AsyncIterator[Incentives]:
    """One replica, read through a viewer's token (the fund is public money)."""
    async with replica() as running:
        yield running
