"""Backfill (R2.1): the office imports a historical ledger of issues, all-or-nothing.

Each record is reported with its original ``reported_at`` and marked ``imported``, then its
transitions are replayed through the live decisions (R2.3); one bad record rejects the import
with a per-record report, and the transaction that numbered the others rolls back (numbers stay
gap-free). The year counters are locked for the import, so live reports wait until it commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from services.runtime.auth import Principal
from services.runtime.db import Conn

from . import repository as repo
from .directory import ImportRejected, row_error
from .domain import lifecycle
from .domain.backfill import HistoricalStep, replay
from .domain.errors import DomainError, UnknownUnit
from .domain.issue_events import IssueEvent
from .domain.numbering import issue_number, numbering_year
from .domain.units import Unit
from .schemas import BackfillIn, BackfillIssue
from .use_cases import IssuesService, details_of

# History kinds of replayed events, as the live use cases name them.
_HISTORY_KIND = {
    "verified": "inspection_pass",
    "reopened": "inspection_fail",
    "extended": "extension_approved",
}
Decided = tuple[BackfillIssue, lifecycle.Issue, list[IssueEvent]]


@dataclass
class Backfill:
    """R2.1 backfill on top of the intake's configuration (prefix, time limits)."""

    issues: IssuesService

    async def run(
        self, data: BackfillIn, who: Principal, rows: list[int] | None = None
    ) -> dict[str, Any]:
        """Import every record or none; returns the created issues' numbers. A rejection names
        each bad record by ``rows[i]`` (its spreadsheet row) or else its index in the list."""
        service = self.issues
        now = service.now()
        async with service.runtime.transaction() as conn:
            units = await repo.load_units(conn, _unit_ids(data))
            decided: list[Decided] = []
            rejected: list[dict[str, Any]] = []
            ordered = sorted(enumerate(data.issues), key=lambda ri: ri[1].reported_at)
            for index, record in ordered:
                try:
                    decided.append(await self._decide(conn, record, units, now))
                except DomainError as exc:
                    label = rows[index] if rows else index
                    rejected.append(row_error(label, record.unit_id, "<record>", str(exc)))
            if rejected:
                raise ImportRejected(sorted(rejected, key=lambda r: r["row"]))
            for record, issue, events in decided:
                await repo.insert_issue(conn, issue, record.request_id)
                await self._record(conn, issue, events, who)
        return {"imported": len(decided), "numbers": [issue.number for _, issue, _ in decided]}

    async def run_rows(self, rows: list[dict[str, str]], who: Principal) -> dict[str, Any]:
        """The same import from spreadsheet rows; bad cells reject the file before any
        record is replayed."""
        records, rejected = records_from_rows(rows)
        if rejected:
            raise ImportRejected(rejected)
        if not records:
            raise ImportRejected([row_error(1, None, "<file>", "the file has no rows")])
        labels = list(range(2, len(records) + 2))
        return await self.run(BackfillIn(issues=records), who, labels)

    async def _decide(
        self, conn: Conn, record: BackfillIssue, units: dict[str, Unit], now: datetime
    ) -> Decided:
        if record.unit_id not in units:
            raise UnknownUnit(record.unit_id)
        if record.reported_at > now:
            raise DomainError("reported_at is in the future")
        service = self.issues
        year = numbering_year(record.reported_at)
        seq = await repo.next_number_seq(conn, year)
        issue, reported = lifecycle.report(
            issue_id=service.new_id(),
            number=issue_number(service.number_prefix, year, seq),
            unit=units[record.unit_id],
            category=record.category,
            found_at=record.found_at,
            reported_at=record.reported_at,
            details=details_of(record),
            deadline=record.deadline,
            limits=service.time_limits,
            default_limit=service.default_time_limit,
            imported=True,
        )
        steps = [_step(t, units) for t in record.transitions]
        final, events = replay(issue, steps, now)
        # The stored row is the final state; its history and events start from the report.
        return record, final, [reported, *events]

    async def _record(
        self, conn: Conn, final: lifecycle.Issue, events: list[IssueEvent], who: Principal
    ) -> None:
        for event in events:
            at_version = _as_of(final, event)
            kind = "reported" if event.kind == "reported" else event.kind
            data = {"imported": True, "by": who.name}
            await repo.append_history(
                conn, at_version, _HISTORY_KIND.get(kind, kind), "backfill", data
            )
        for event in events:
            await self.issues.emit(conn, final, event, "backfill")


def _as_of(final: lifecycle.Issue, event: IssueEvent) -> lifecycle.Issue:
    """The history row of ``event`` carries its own version and time."""
    return replace(final, version=event.version, updated_at=event.occurred_at)


def _step(t: Any, units: dict[str, Unit]) -> HistoricalStep:
    if t.kind == "transfer" and t.unit_id not in units:
        raise UnknownUnit(str(t.unit_id))
    return HistoricalStep(
        kind=t.kind,
        at=t.at,
        evidence=tuple(t.evidence),
        note=t.note,
        reason=t.reason,
        to_unit=units.get(t.unit_id) if t.unit_id else None,
        deadline=t.deadline,
    )


def _unit_ids(data: BackfillIn) -> list[str]:
    ids = {r.unit_id for r in data.issues}
    ids |= {t.unit_id for r in data.issues for t in r.transitions if t.unit_id}
    return sorted(ids)


def records_from_rows(
    rows: list[dict[str, str]],
) -> tuple[list[BackfillIssue], list[dict[str, Any]]]:
    """Spreadsheet rows → backfill records: ``address``/``lat``/``lon`` columns form the
    location, ``photos`` holds URLs separated by spaces, ``transitions`` a JSON list."""
    records, rejected = [], []
    for line, row in enumerate(rows, start=2):
        values: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
        location = {k: values.pop(k) for k in ("address", "lat", "lon") if k in values}
        values["location"] = location
        values["photos"] = values.get("photos", "").split()
        try:
            values["transitions"] = json.loads(values.get("transitions", "[]"))
            records.append(BackfillIssue.model_validate(values))
        except json.JSONDecodeError as exc:
            rejected.append(row_error(line, row.get("unit_id"), "transitions", str(exc)))
        except ValidationError as exc:
            errors = [
                {"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in exc.errors()
            ]
            rejected.append({"row": line, "unit_id": row.get("unit_id"), "errors": errors})
    return records, rejected
