"""The background loops of a service (services.runtime.background)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from services.runtime.background import Loop, wait_for_poke


class Steps:
    """A step that counts its calls and answers the waits it is given, one per call."""

    def __init__(self, *waits: float | None, fail_first: int = 0) -> None:
        self.calls = 0
        self._waits = list(waits)
        self._fail_first = fail_first
        self.called = asyncio.Event()

    async def __call__(self) -> float | None:
        self.calls += 1
        self.called.set()
        if self.calls <= self._fail_first:
            raise RuntimeError("the database is away")
        return self._waits.pop(0) if self._waits else None

    async def reached(self, calls: int, within: float = 5.0) -> None:
        """Wait until the step has been called ``calls`` times."""
        async with asyncio.timeout(within):
            while self.calls < calls:
                self.called.clear()
                await self.called.wait()


async def test_a_stop_arriving_with_a_poke_still_ends_the_loop() -> None:
    # asyncio.wait_for on Python 3.11 swallowed this cancellation and the loop ran on forever.
    step = Steps()
    loop = Loop("test", step, poll_seconds=0.05, failure="step failed")
    loop.start()
    await step.reached(1)
    await asyncio.sleep(0.01)  # the loop now waits for a poke
    loop.poke()
    await loop.stop(within_seconds=2.0)
    calls = step.calls
    await asyncio.sleep(0.2)
    assert step.calls == calls and not loop.running


async def test_a_poke_runs_the_next_step_before_the_poll_interval() -> None:
    step = Steps()
    loop = Loop("test", step, poll_seconds=60.0, failure="step failed")
    loop.start()
    try:
        await step.reached(1)
        loop.poke()
        await step.reached(2, within=2.0)
    finally:
        await loop.stop()


async def test_a_step_that_asks_for_no_wait_runs_again_at_once() -> None:
    step = Steps(0, 0, 0)
    loop = Loop("test", step, poll_seconds=60.0, failure="step failed")
    loop.start()
    try:
        await step.reached(4, within=2.0)  # three at once, then the poll wait
        await asyncio.sleep(0.05)
        assert step.calls == 4
    finally:
        await loop.stop()


async def test_a_failing_step_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    step = Steps(fail_first=2)
    loop = Loop("test", step, poll_seconds=60.0, failure="step failed", retry_seconds=0.01)
    with caplog.at_level(logging.WARNING, logger="services.runtime.background"):
        loop.start()
        try:
            await step.reached(3)
        finally:
            await loop.stop()
    failures = [r for r in caplog.records if r.getMessage() == "step failed"]
    assert len(failures) == 2 and failures[0].exc_info is not None


async def test_a_step_that_ignores_cancellation_does_not_hold_the_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def stubborn() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(10)  # a bug somewhere below the step: the first one is lost

    loop = Loop("stubborn", stubborn, poll_seconds=1.0, failure="step failed")
    loop.start()
    await asyncio.sleep(0.01)
    with caplog.at_level(logging.ERROR, logger="services.runtime.background"):
        await loop.stop(within_seconds=0.1)
    assert any(r.getMessage() == "background task did not stop; going on" for r in caplog.records)
    (left,) = [t for t in asyncio.all_tasks() if t.get_name() == "stubborn"]
    left.cancel()  # the second cancellation ends it
    await asyncio.wait({left}, timeout=5)
    assert left.cancelled()


async def test_waiting_for_a_poke_tells_whether_it_came() -> None:
    event = asyncio.Event()
    assert not await wait_for_poke(event, 0.01)
    event.set()
    assert await wait_for_poke(event, 10.0)
