"""The weekly publication schedule inside the service (R4.1).

Every ``poll`` seconds each replica asks for the latest scheduled cutoff whose grace delay is
over (default Monday 00:00 Asia/Shanghai + 2 h) and publishes it unless it is published already.
Replicas coordinate through the database: publication is serialised by an advisory lock and a
scheduled cutoff is recorded under a unique key, so it is published once whoever comes first.

Two cases wait instead of publishing:
- the projection has not applied its input streams up to their last sequences (read first,
  then the positions; the projection gets `EditionsService.catch_up_seconds` to reach them): a
  replica just started, a rebuild is catching up, or a message dead-lettered after
  ``max_deliver`` holds a position back (docs/decisions.md) -- an edition from a partial
  projection would be wrong and its first revision fixes the pool (R6.2);
- nothing at all would be ranked at the cutoff (the campaign had no data yet, e.g. a fresh
  installation whose latest Monday precedes every event): publishing an empty edition would
  still start the year's edition numbering and settle a pool (R6.2).

A held-back edition is logged as a WARNING on every poll and shown by the metrics
``chuangwen_ranking_scheduled_edition_held_back`` (1 while held back; alert on it),
``chuangwen_ranking_projection_behind_messages{stream}`` and
``chuangwen_ranking_edition_held_back_total{trigger="scheduled"}``.

The office's override: replay the dead-lettered message (its stream and sequence are in the
dead letter on ``dlq.ranking``) so that the position moves on; or, if it must not wait, publish
the cutoff on demand with ``POST /v1/editions {"cutoff": ..., "force": true}``. The forced
edition records the input positions it was computed from and the answer records what was left
out (``behind``); the schedule then finds the cutoff published and records it as done, and a
later on-demand publication of the same cutoff makes a new revision once the message is applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.runtime.background import Loop

from . import metrics, store
from .domain.schedule import latest_scheduled_cutoff
from .editions import EditionsService, ProjectionBehind
from .progress import INPUTS

log = logging.getLogger(__name__)


@dataclass
class WeeklySchedule:
    """R4.1: the scheduled editions of one replica."""

    editions: EditionsService
    weekday: int
    hour: int
    grace: timedelta
    poll_seconds: float
    _loop: Loop | None = field(default=None, init=False)

    def due_cutoff(self, now: datetime) -> datetime:
        """The latest cutoff whose grace delay is over at ``now``."""
        return latest_scheduled_cutoff(now, self.grace, self.editions.tz, self.weekday, self.hour)

    async def run_once(self, now: datetime | None = None) -> dict[str, Any] | None:
        """Publish the due cutoff if it is not yet; None when there was nothing to do or the
        edition is held back (WARNING and metrics, see the module docstring)."""
        cutoff = self.due_cutoff(now or self.editions.now())
        async with self.editions.runtime.pool.connection() as conn:
            done = await store.scheduled_done(conn, cutoff)
        if done:
            self._held_back(None)
            return None
        try:
            published = await self.editions.publish(cutoff, scheduled=True)
        except ProjectionBehind as exc:
            self._held_back(exc.missing)
            log.warning(
                "scheduled edition held back: the projection is behind its input streams;"
                " replay the dead-lettered message (dlq.ranking) or publish on demand with"
                ' POST /v1/editions {"cutoff": ..., "force": true}',
                extra={"cutoff": cutoff.isoformat(), "behind": exc.missing, "ends": exc.ends},
            )
            return None
        self._held_back(None)
        return published

    @staticmethod
    def _held_back(missing: dict[str, int] | None) -> None:
        metrics.SCHEDULED_HELD_BACK.set(1 if missing else 0)
        for spec in INPUTS:
            metrics.PROJECTION_BEHIND.labels(spec.name).set((missing or {}).get(spec.name, 0))

    async def _step(self) -> None:
        await self.run_once()

    def start(self) -> None:
        self._loop = Loop(
            "weekly-schedule",
            self._step,
            self.poll_seconds,
            failure="scheduled publication failed; will try again",
        )
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None
