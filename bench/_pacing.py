"""Calling a coroutine many times: from a fixed number of concurrent clients (closed loop), or
at a set rate whatever the answers take (open loop)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

IN_FLIGHT = 100


async def closed_loop(count: int, clients: int, one: Callable[[int], Awaitable[None]]) -> float:
    """``count`` calls from ``clients`` concurrent loops; the seconds they took."""
    todo = iter(range(count))

    async def client() -> None:
        for i in todo:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(min(clients, count))))
    return time.perf_counter() - started


async def paced(count: int, rate: float, one: Callable[[int], Awaitable[None]]) -> float:
    """Call ``i`` starts at ``i / rate`` s (open loop: a late start does not push the next
    ones back), at most ``IN_FLIGHT`` at once; the seconds until the last one finished."""
    room = asyncio.Semaphore(IN_FLIGHT)
    tasks = []

    async def run(i: int) -> None:
        try:
            await one(i)
        finally:
            room.release()

    started = time.perf_counter()
    for i in range(count):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await room.acquire()
        tasks.append(asyncio.create_task(run(i)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - started
