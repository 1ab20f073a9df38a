"""Has the projection caught up with its input streams? (R7 input positions, R6.2)

An edition computed from a partial projection is wrong, and its first revision fixes the
edition's pool for good (R6.2). So whoever publishes first reads the *streams'* last sequences
and only then the projection's input positions: reading the positions first would compare them
with messages that arrived afterwards, and under steady traffic the projection would always
look behind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from nats.js.errors import NotFoundError

from services.contracts.streams import ASSESSMENTS, ISSUES, StreamSpec
from services.runtime.service import ServiceRuntime

from .projection import input_positions

INPUTS: tuple[StreamSpec, ...] = (ISSUES, ASSESSMENTS)


async def stream_ends(
    runtime: ServiceRuntime, streams: Sequence[StreamSpec] = INPUTS
) -> dict[str, int]:
    """The last sequence of each input stream now (0 for an empty or missing stream)."""
    js = runtime.bus.broker.connection.jetstream()
    ends: dict[str, int] = {}
    for spec in streams:
        try:
            ends[spec.name] = int((await js.stream_info(spec.name)).state.last_seq)
        except NotFoundError:
            ends[spec.name] = 0
    return ends


def behind(ends: dict[str, int], positions: dict[str, int]) -> dict[str, int]:
    """Per stream, how many sequences up to ``ends`` the positions have not reached."""
    return {
        stream: end - positions.get(stream, 0)
        for stream, end in ends.items()
        if positions.get(stream, 0) < end
    }


async def current_positions(runtime: ServiceRuntime) -> dict[str, int]:
    async with runtime.pool.connection() as conn:
        return await input_positions(conn)


async def wait_caught_up(
    runtime: ServiceRuntime,
    within: float,
    streams: Sequence[StreamSpec] = INPUTS,
    poll: float = 0.05,
) -> tuple[dict[str, int], dict[str, int]]:
    """Wait up to ``within`` seconds for the input positions to reach the streams' last
    sequences as read *now* (first); returns (those ends, what is still behind: {} when caught
    up)."""
    ends = await stream_ends(runtime, streams)
    deadline = time.monotonic() + within
    while True:
        missing = behind(ends, await current_positions(runtime))
        if not missing or time.monotonic() >= deadline:
            return ends, missing
        await asyncio.sleep(min(poll, max(0.0, deadline - time.monotonic())))
