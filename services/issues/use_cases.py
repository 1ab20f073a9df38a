"""One function per use case: load, decide (pure domain), save state + history + outbox in one
transaction (STYLE.md 3). Intake (R2.1-R2.2) and the lifecycle (R2.3, R2.6)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.contracts.envelope import Event
from services.runtime.auth import Principal
from services.runtime.db import Conn
from services.runtime.http import NotFound
from services.runtime.service import ServiceRuntime

from . import repository as repo
from .access import Forbidden, readable_units, require_own_unit, require_readable
from .domain import lifecycle
from .domain.errors import UnknownUnit
from .domain.issue_events import IssueBecameOverdue, IssueDetails, IssueEvent
from .domain.numbering import issue_number, numbering_year
from .events import issue_event, overdue_event
from .queries import IssueQuery, list_issues
from .schemas import (
    ExtensionDecisionIn,
    ExtensionIn,
    InspectionIn,
    IssueIn,
    RectificationIn,
    TransferIn,
    VoidIn,
)

Decision = Callable[[lifecycle.Issue, datetime], tuple[lifecycle.Issue, IssueEvent]]


def details_of(data: IssueIn) -> IssueDetails:
    """R2.1: what the inspection team recorded."""
    return IssueDetails(
        point_type=data.point_type,
        description=data.description,
        address=data.location.address,
        inspector=data.inspector,
        team=data.team,
        photos=tuple(data.photos),
        lat=data.location.lat,
        lon=data.location.lon,
    )


@dataclass
class IssuesService:
    """The issues service's use cases; the clock and id source are injected for tests."""

    runtime: ServiceRuntime
    number_prefix: str
    time_limits: dict[str, timedelta]
    default_time_limit: timedelta
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], UUID] = uuid.uuid4

    async def report_issue(self, data: IssueIn) -> dict[str, Any]:
        """R2.1-R2.2: accept a report, number it gap-free and issue the supervision notice.

        The year's number counter is locked last, just before the writes, so that concurrent
        reports (from any replica) queue on it for as short a time as possible; a rollback
        gives the number back, so numbers stay gap-free. In pipeline mode the statements whose
        answers are not needed yet travel together (BEGIN and the counter with the unit, the
        three writes with COMMIT): two round trips, and the counter is held for the second.
        """
        at = self.now()
        year = numbering_year(at)
        async with self.runtime.transaction(pipeline=True) as conn:
            if data.request_id is not None:
                # Two deliveries of one request may race: the second waits for the first.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (str(data.request_id),)
                )
                existing = await repo.issue_for_request(conn, data.request_id)
                if existing is not None:  # a retried request: same answer, nothing new
                    return repo.issue_view(existing)
            unit, seq = await repo.unit_and_next_number(conn, data.unit_id, year)
            if unit is None:
                raise UnknownUnit(data.unit_id)
            number = issue_number(self.number_prefix, year, seq)
            issue, event = lifecycle.report(**self._report_args(data, unit, at, number))
            await repo.insert_issue(conn, issue, data.request_id)
            history = {"deadline": issue.deadline}
            await self._record(conn, issue, event, "reported", data.inspector, history)
        return repo.issue_view(issue)

    def _report_args(self, data: IssueIn, unit: Any, at: datetime, number: str) -> dict[str, Any]:
        return {
            "issue_id": self.new_id(),
            "number": number,
            "unit": unit,
            "category": data.category,
            "found_at": data.found_at,
            "reported_at": at,
            "details": details_of(data),
            "deadline": data.deadline,
            "limits": self.time_limits,
            "default_limit": self.default_time_limit,
        }

    async def show(self, issue_id: UUID, who: Principal) -> dict[str, Any]:
        """The issue as it is now, if ``who`` may read it."""
        async with self.runtime.pool.connection() as conn:
            view = await repo.get_issue_view(conn, issue_id)
            if view is None:
                raise NotFound(f"no issue {issue_id}")
            await require_readable(conn, who, view["unit_id"])
        return view

    async def search(self, query: IssueQuery, who: Principal) -> dict[str, Any]:
        """``GET /v1/issues``: one page among the issues ``who`` may read."""
        async with self.runtime.pool.connection() as conn:
            readable = await readable_units(conn, who)
            if readable is not None and query.unit_id not in (None, *readable):
                raise Forbidden(f"unit {who.unit_id!r} may not read issues of {query.unit_id!r}")
            return await list_issues(conn, query, readable, self.now())

    async def history(self, issue_id: UUID, who: Principal) -> list[dict[str, Any]]:
        """R2.3: the append-only history, with who, when and why."""
        await self.show(issue_id, who)
        async with self.runtime.pool.connection() as conn:
            return await repo.history(conn, issue_id)

    async def rectify(self, issue_id: UUID, data: RectificationIn, who: Principal) -> Any:
        """R2.3: the issue's own unit reports the fix with evidence photos."""
        return await self._transition(
            issue_id,
            who,
            "rectified",
            {"evidence": data.evidence, "note": data.note},
            lambda issue, at: lifecycle.rectify(issue, at, data.evidence),
            own_unit=True,
        )

    async def inspect(self, issue_id: UUID, data: InspectionIn, who: Principal) -> Any:
        """R2.3 回头看: pass → verified; fail → reopened with rework + 1."""
        return await self._transition(
            issue_id,
            who,
            f"inspection_{data.result}",
            {"note": data.note},
            lambda issue, at: lifecycle.inspect(issue, at, data.result == "pass", data.note),
        )

    async def void(self, issue_id: UUID, data: VoidIn, who: Principal) -> Any:
        """R2.3: office only; final; the issue leaves every count."""
        return await self._transition(
            issue_id,
            who,
            "voided",
            {"reason": data.reason},
            lambda issue, at: lifecycle.void(issue, at, data.reason),
        )

    async def transfer(self, issue_id: UUID, data: TransferIn, who: Principal) -> Any:
        """R2.6 转办: the office moves the issue to another active unit."""
        async with self.runtime.transaction() as conn:
            to = await repo.unit_for_report(conn, data.unit_id)
            if to is None:
                raise UnknownUnit(data.unit_id)
            return await self._decide(
                conn,
                issue_id,
                who,
                "transferred",
                {"unit_id": data.unit_id, "reason": data.reason},
                lambda issue, at: lifecycle.transfer(issue, to, at, data.reason),
            )

    async def request_extension(self, issue_id: UUID, data: ExtensionIn, who: Principal) -> Any:
        """R2.6 延期: the issue's own unit asks for a later deadline."""
        return await self._transition(
            issue_id,
            who,
            "extension_requested",
            {"deadline": data.deadline, "reason": data.reason},
            lambda issue, at: lifecycle.request_extension(issue, at, data.deadline, data.reason),
            own_unit=True,
        )

    async def decide_extension(
        self, issue_id: UUID, data: ExtensionDecisionIn, who: Principal
    ) -> Any:
        """R2.6: the office approves (the new deadline applies from now on) or refuses."""
        return await self._transition(
            issue_id,
            who,
            "extension_approved" if data.approved else "extension_refused",
            {"note": data.note},
            lambda issue, at: lifecycle.decide_extension(issue, at, data.approved, data.note),
        )

    async def _transition(
        self,
        issue_id: UUID,
        who: Principal,
        kind: str,
        data: dict[str, Any],
        decide: Decision,
        own_unit: bool = False,
    ) -> dict[str, Any]:
        # Pipelined: BEGIN with the load, the history and outbox rows with COMMIT.
        async with self.runtime.transaction(pipeline=True) as conn:
            return await self._decide(conn, issue_id, who, kind, data, decide, own_unit)

    async def _decide(
        self,
        conn: Conn,
        issue_id: UUID,
        who: Principal,
        kind: str,
        data: dict[str, Any],
        decide: Decision,
        own_unit: bool = False,
    ) -> dict[str, Any]:
        """Load the issue locked, check the caller, decide, and write state, history and
        outbox in the caller's transaction; a refusal raises and writes nothing."""
        issue = await repo.load_issue(conn, issue_id)
        if issue is None:
            raise NotFound(f"no issue {issue_id}")
        if own_unit:
            require_own_unit(who, issue.unit_id, kind.replace("_", " "))
        new, event = decide(issue, max(self.now(), issue.updated_at))
        await repo.update_issue(conn, new)
        await self._record(conn, new, event, kind, who.name, data)
        return repo.issue_view(new)

    async def _record(
        self,
        conn: Conn,
        issue: lifecycle.Issue,
        event: IssueEvent,
        kind: str,
        actor: str,
        data: dict[str, Any],
    ) -> None:
        """The history row and the contract event of one change (same transaction)."""
        await repo.append_history(conn, issue, kind, actor, data)
        await self.emit(conn, issue, event, actor)

    async def emit(self, conn: Conn, issue: lifecycle.Issue, event: IssueEvent, actor: str) -> None:
        """Stage the contract event of ``event`` in the outbox (same transaction)."""
        if isinstance(event, IssueBecameOverdue):
            contract: Event | None = overdue_event(event, issue.number, self.new_id)
        else:
            contract = issue_event(event, self.new_id, actor)
        if contract is not None:
            await self.runtime.commit(conn, [contract])
