"""R2.4: the overdue scheduler, run inside every replica and coordinated through PostgreSQL.

Each sweep locks a batch of candidate issues with ``FOR UPDATE SKIP LOCKED`` (replicas take
disjoint batches and never wait for each other), lets the pure ``overdue_transitions`` decide,
and writes the flag, the history row and the ``issues.v1.overdue`` event in one transaction.
The flag ``overdue_emitted`` is stored, so the event is emitted once per entry into the
condition across restarts and replicas, never once per poll.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from services.runtime.background import Loop
from services.runtime.service import ServiceRuntime

from . import repository as repo
from .domain.lifecycle import overdue_transitions
from .events import overdue_event

log = logging.getLogger(__name__)
SCHEDULER = "scheduler"


@dataclass
class OverdueScheduler:
    """Sweeps now and then; ``also`` are further periodic chores (the daily draw, R2.5)."""

    runtime: ServiceRuntime
    poll_seconds: float
    batch: int
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], UUID] = uuid.uuid4
    also: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    _loop: Loop | None = field(default=None, init=False, repr=False)

    async def sweep(self) -> int:
        """R2.4: emit ``issues.v1.overdue`` for one batch of issues that have just become
        overdue; returns how many."""
        at = self.now()
        async with self.runtime.transaction() as conn:
            candidates = await repo.overdue_candidates(conn, at, self.batch)
            decided = overdue_transitions(candidates, at)
            for issue, event in decided:
                await repo.update_issue(conn, issue)
                await repo.append_history(
                    conn, issue, "overdue", SCHEDULER, {"deadline": issue.deadline}
                )
                await self.runtime.commit(conn, [overdue_event(event, issue.number, self.new_id)])
        return len(decided)

    async def run_once(self) -> int:
        """Sweep until a batch comes back short, then the other chores. Each chore is tried on
        its own: a failing sweep does not stop the daily draw (R2.5), nor one chore the next;
        a failure is logged and the next poll retries it."""
        total = 0
        try:
            while (found := await self.sweep()) > 0:
                total += found
                if found < self.batch:
                    break
        except Exception:
            log.warning("overdue sweep failed; will retry", exc_info=True)
        for chore in self.also:
            try:
                await chore()
            except Exception:
                name = getattr(chore, "__qualname__", repr(chore))
                log.warning("scheduled chore %s failed; will retry", name, exc_info=True)
        return total

    async def _step(self) -> None:
        await self.run_once()

    def start(self) -> None:
        # A failed poll (the database away, or a bug) leaves the flag unchanged; the next retries.
        self._loop = Loop(
            "overdue-scheduler", self._step, self.poll_seconds, failure="scheduler poll failed"
        )
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None
