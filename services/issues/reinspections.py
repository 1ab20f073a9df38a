"""R2.5 回头看抽查: the daily seeded draw of yesterday's rectified issues, and the office's
additions by hand. A day's draw is made once (by whichever replica asks first) and stored, so
it never changes afterwards; anyone can recompute it from its seed and population."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

from services.runtime.auth import Principal
from services.runtime.db import Conn
from services.runtime.http import NotFound
from services.runtime.service import ServiceRuntime

from . import draw_store as store
from . import repository as repo
from .domain.errors import InvalidCommand
from .domain.instants import CAMPAIGN_TZ
from .domain.reinspection import draw, rectified_window
from .schemas import ReinspectionIn


@dataclass
class Reinspections:
    """The draw's configuration comes from the rules file (share, seed)."""

    runtime: ServiceRuntime
    share: Fraction
    seed: str
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def today(self) -> date:
        return self.now().astimezone(CAMPAIGN_TZ).date()

    def seed_of(self, day: date) -> str:
        return f"{self.seed}:{day.isoformat()}"

    async def ensure_today(self) -> None:
        """The scheduler's daily chore: make today's draw if no replica has yet."""
        await self.ensure_draw(self.today())

    def _require_due(self, day: date) -> None:
        if day > self.today():
            raise InvalidCommand(f"the draw of {day} cannot be made before that day")

    async def ensure_draw(self, day: date) -> None:
        """R2.5: draw ``day``'s re-inspections once; a later call finds it made."""
        self._require_due(day)
        async with self.runtime.transaction() as conn:
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"draw:{day}",)
            )
            if await store.draw_exists(conn, day):
                return
            start, end = rectified_window(day)
            population = await store.rectified_between(conn, start, end)
            drawn = draw(population, self.share, seed=self.seed_of(day))
            await store.save_draw(
                conn, day, self.seed_of(day), str(self.share), len(population), self.now()
            )
            for issue_id in drawn:
                await store.add_reinspection(conn, day, issue_id, "draw", "draw", "", self.now())

    async def for_day(self, day: date) -> dict[str, Any]:
        """The day's draw (made now if it is due) with the issues added by hand."""
        await self.ensure_draw(day)
        async with self.runtime.pool.connection() as conn:
            return await store.reinspections_of(conn, day)

    async def add(self, data: ReinspectionIn, who: Principal) -> dict[str, Any]:
        """R2.5: the office adds any issue to a day's re-inspections (of a day whose draw is
        due: refused before anything is written otherwise)."""
        self._require_due(data.date)
        async with self.runtime.transaction() as conn:
            await _require_issue(conn, data)
            await store.add_reinspection(
                conn, data.date, data.issue_id, "manual", who.name, data.reason, self.now()
            )
        return await self.for_day(data.date)


async def _require_issue(conn: Conn, data: ReinspectionIn) -> None:
    if await repo.get_issue_view(conn, data.issue_id) is None:
        raise NotFound(f"no issue {data.issue_id}")
