"""Helpers of the incentives integration tests: waiting, publishing, reading a stream."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import nats

from services.contracts.base import to_wire
from services.contracts.ranking import EditionPublished


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def publish(js: Any, event: EditionPublished, msg_id: str | None = None) -> None:
    headers = {"Nats-Msg-Id": msg_id or str(event.event_id)}
    await js.publish(event.SUBJECT, to_wire(event), headers=headers)


async def fetch_all(js: Any, subject: str, stream: str) -> list[bytes]:
    sub = await js.pull_subscribe(subject, stream=stream)
    found: list[bytes] = []
    try:
        while True:
            try:
                found += [m.data for m in await sub.fetch(100, timeout=1)]
            except nats.errors.TimeoutError:
                return found
    finally:
        await sub.unsubscribe()
