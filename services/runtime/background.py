"""A service's background loops (the outbox relay, the delivery worker, the schedulers): one
named task that runs a step, waits for a poke or its poll interval, and stops when told.

Not ``asyncio.wait_for(event.wait(), seconds)``: on Python 3.11 it swallows a cancellation
that arrives in the loop iteration where the event is set (the waited task is done, so
``wait_for`` returns instead of raising). A loop around it then never ends: the stop that awaits
it hangs, and in the tests' shared event loop the task lives on, a second worker beside the
next test's. ``asyncio.timeout`` counts cancellations (``Task.uncancel``) and lets them through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# One step of a loop; returns how long to wait before the next one (0: go on at once, None: the
# poll interval). A poke ends the wait early.
Step = Callable[[], Awaitable[float | None]]


async def wait_for_poke(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` have passed; True if it was set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
        return True
    return False


class Loop:
    """Runs ``step`` over and over in a task of its own until ``stop``.

    A step that raises is logged with ``failure`` and retried after ``retry_seconds`` (the poll
    interval by default; a poke does not shorten it: the database is probably away)."""

    def __init__(
        self,
        name: str,
        step: Step,
        poll_seconds: float,
        *,
        failure: str,
        retry_seconds: float | None = None,
    ) -> None:
        self.name = name
        self._step = step
        self._poll = poll_seconds
        self._failure = failure
        self._retry = poll_seconds if retry_seconds is None else retry_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def poke(self) -> None:
        """Run the next step now (work was just committed)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, within_seconds: float = 10.0) -> None:
        """Cancel the task and wait for it; one that will not end (a step stuck somewhere that
        ignores cancellation) is logged and left, so the process still stops."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=within_seconds)
        if not done:
            log.error("background task did not stop; going on", extra={"task": self.name})
        elif not task.cancelled() and task.exception() is not None:
            log.error("background task had ended with an error", exc_info=task.exception())

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before the step, so a poke during it is not lost
            try:
                wait = await self._step()
            except Exception:
                log.warning(self._failure, extra={"task": self.name}, exc_info=True)
                await asyncio.sleep(self._retry)
                continue
            wait = self._poll if wait is None else wait
            if wait > 0:
                await wait_for_poke(self._wake, wait)
