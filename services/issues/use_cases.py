"""One function per use case: load, decide (pure domain), save state + history + outbox in one
transaction (STYLE.md 3)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.runtime.http import NotFound
from services.runtime.service import ServiceRuntime

from . import repository as repo
from .domain import lifecycle, units
from .domain.errors import UnknownUnit
from .domain.issue_events import IssueDetails
from .domain.numbering import issue_number, numbering_year
from .events import issue_event, unit_event
from .schemas import InspectionIn, IssueIn, RectificationIn, UnitIn, VoidIn


@dataclass
class IssuesService:
    """The issues service's use cases; the clock and id source are injected for tests."""

    runtime: ServiceRuntime
    number_prefix: str
    time_limits: dict[str, timedelta]
    default_time_limit: timedelta
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], UUID] = uuid.uuid4

    async def register_unit(self, data: UnitIn) -> dict[str, Any]:
        """R1.1-R1.2: register a unit and publish ``units.v1.registered``."""
        at = self.now()
        async with self.runtime.transaction() as conn:
            directory = await repo.load_units(conn, [data.unit_id, data.parent_id])
            unit, event = units.register(
                directory,
                unit_id=data.unit_id,
                name=data.name,
                category=units.Category(data.category),
                parent_id=data.parent_id,
                at=at,
            )
            await repo.save_unit(conn, unit, at)
            await self.runtime.commit(conn, [unit_event(event, self.new_id)])
        return {
            "unit_id": unit.unit_id,
            "name": unit.name,
            "category": str(unit.category),
            "parent_id": unit.parent_id,
            "active": unit.active,
            "version": unit.version,
        }

    async def report_issue(self, data: IssueIn) -> dict[str, Any]:
        """R2.1-R2.2: accept a report, number it gap-free and issue the supervision notice."""
        at = self.now()
        async with self.runtime.transaction() as conn:
            if data.request_id is not None:
                # Two deliveries of one request may race: the second waits for the first.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (str(data.request_id),)
                )
                existing = await repo.issue_for_request(conn, data.request_id)
                if existing is not None:  # a retried request: same answer, nothing new
                    return repo.issue_view(existing)
            directory = await repo.load_units(conn, [data.unit_id])
            if data.unit_id not in directory:
                raise UnknownUnit(data.unit_id)
            year = numbering_year(at)
            seq = await repo.next_number_seq(conn, year)
            issue, event = lifecycle.report(
                issue_id=self.new_id(),
                number=issue_number(self.number_prefix, year, seq),
                unit=directory[data.unit_id],
                category=data.category,
                found_at=data.found_at,
                reported_at=at,
                details=IssueDetails(
                    point_type=data.point_type,
                    description=data.description,
                    address=data.location.address,
                    inspector=data.inspector,
                    team=data.team,
                    photos=tuple(data.photos),
                    lat=data.location.lat,
                    lon=data.location.lon,
                ),
                deadline=data.deadline,
                limits=self.time_limits,
                default_limit=self.default_time_limit,
            )
            await repo.insert_issue(conn, issue, data.request_id)
            await repo.append_history(
                conn, issue, "reported", data.inspector, {"deadline": issue.deadline.isoformat()}
            )
            await self._publish(conn, event, data.inspector)
        return repo.issue_view(issue)

    async def rectify(self, issue_id: UUID, data: RectificationIn) -> dict[str, Any]:
        """R2.3: the unit reports the fix with evidence photos."""
        return await self._transition(
            issue_id,
            data.actor,
            "rectified",
            {"evidence": data.evidence, "note": data.note},
            lambda issue, at: lifecycle.rectify(issue, at, data.evidence),
        )

    async def inspect(self, issue_id: UUID, data: InspectionIn) -> dict[str, Any]:
        """R2.3 回头看: pass → verified; fail → reopened with rework + 1."""
        return await self._transition(
            issue_id,
            data.inspector,
            f"inspection_{data.result}",
            {"note": data.note},
            lambda issue, at: lifecycle.inspect(issue, at, data.result == "pass", data.note),
        )

    async def void(self, issue_id: UUID, data: VoidIn) -> dict[str, Any]:
        """R2.3: office only; final; the issue leaves every count."""
        return await self._transition(
            issue_id,
            data.actor,
            "voided",
            {"reason": data.reason},
            lambda issue, at: lifecycle.void(issue, at, data.reason),
        )

    async def _transition(
        self,
        issue_id: UUID,
        actor: str,
        kind: str,
        data: dict[str, Any],
        decide: Callable[[lifecycle.Issue, datetime], tuple[lifecycle.Issue, Any]],
    ) -> dict[str, Any]:
        at = self.now()
        async with self.runtime.transaction() as conn:
            issue = await repo.load_issue(conn, issue_id)
            if issue is None:
                raise NotFound(f"no issue {issue_id}")
            new, event = decide(issue, max(at, issue.updated_at))
            await repo.update_issue(conn, new)
            await repo.append_history(conn, new, kind, actor, data)
            await self._publish(conn, event, actor)
        return repo.issue_view(new)

    async def _publish(self, conn: Any, event: Any, actor: str) -> None:
        contract = issue_event(event, self.new_id, actor)
        if contract is not None:
            await self.runtime.commit(conn, [contract])
