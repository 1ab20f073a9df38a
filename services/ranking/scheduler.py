"""The weekly publication schedule inside the service (R4.1).

Every ``poll`` seconds each replica asks for the latest scheduled cutoff whose grace delay is
over (default Monday 00:00 Asia/Shanghai + 2 h) and publishes it unless it is published already.
Replicas coordinate through the database: publication is serialised by an advisory lock and a
scheduled cutoff is recorded under a unique key, so it is published once whoever comes first.

Two cases wait instead of publishing:
- the projection has not yet applied everything on its input streams (a replica just started,
  or a rebuild is catching up): an edition from a partial projection would be wrong;
- nothing at all would be ranked at the cutoff (the campaign had no data yet, e.g. a fresh
  installation whose latest Monday precedes every event): publishing an empty edition would
  still start the year's edition numbering and settle a pool (R6.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.contracts.streams import ASSESSMENTS, ISSUES

from . import store
from .domain.schedule import latest_scheduled_cutoff
from .editions import EditionsService
from .projection import input_positions

log = logging.getLogger(__name__)


@dataclass
class WeeklySchedule:
    """R4.1: the scheduled editions of one replica."""

    editions: EditionsService
    weekday: int
    hour: int
    grace: timedelta
    poll_seconds: float
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def due_cutoff(self, now: datetime) -> datetime:
        """The latest cutoff whose grace delay is over at ``now``."""
        return latest_scheduled_cutoff(now, self.grace, self.editions.tz, self.weekday, self.hour)

    async def run_once(self, now: datetime | None = None) -> dict[str, Any] | None:
        """Publish the due cutoff if it is not yet; None when there was nothing to do."""
        cutoff = self.due_cutoff(now or datetime.now(UTC))
        runtime = self.editions.runtime
        async with runtime.pool.connection() as conn:
            if await store.scheduled_done(conn, cutoff):
                return None
            positions = await input_positions(conn)
        behind = await self._streams_behind(positions)
        if behind:
            log.info("scheduled edition waits for the projection", extra={"behind": behind})
            return None
        return await self.editions.publish(cutoff, scheduled=True)

    async def _streams_behind(self, positions: dict[str, int]) -> dict[str, int]:
        js = self.editions.runtime.bus.broker.connection.jetstream()
        behind: dict[str, int] = {}
        for spec in (ISSUES, ASSESSMENTS):
            last = (await js.stream_info(spec.name)).state.last_seq
            if positions.get(spec.name, 0) < last:
                behind[spec.name] = last - positions.get(spec.name, 0)
        return behind

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("scheduled publication failed; will try again", exc_info=True)
            await asyncio.sleep(self.poll_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="weekly-schedule")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
