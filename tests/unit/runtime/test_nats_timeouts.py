"""The fetch shim: FastStream's pull loops must see every fetch timeout as nats' own, or the
messages a batch loop already fetched are dropped until ack_wait (runtime/nats_timeouts.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import nats.errors
import pytest
from nats.js.client import JetStreamContext

from services.runtime import nats_timeouts


def _subscription(raising: BaseException) -> Any:
    sub: Any = object.__new__(JetStreamContext.PullSubscription)
    sub._sub = object()  # nats-py only checks that it is set before fetching

    async def fetch_n(*_: Any) -> list[Any]:
        raise raising

    sub._fetch_n = fetch_n
    return sub


async def test_a_builtin_timeout_of_fetch_becomes_nats_own() -> None:
    nats_timeouts.install()
    nats_timeouts.install()  # idempotent: wrapped once
    with pytest.raises(nats.errors.TimeoutError) as raised:
        await _subscription(TimeoutError()).fetch(10, timeout=0.05)
    assert isinstance(raised.value, TimeoutError)  # still the builtin for other callers
    assert isinstance(raised.value.__cause__, asyncio.TimeoutError)


async def test_other_failures_of_fetch_are_left_alone() -> None:
    nats_timeouts.install()
    with pytest.raises(nats.errors.ConnectionClosedError):
        await _subscription(nats.errors.ConnectionClosedError()).fetch(10, timeout=0.05)
