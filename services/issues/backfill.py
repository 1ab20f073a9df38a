"""Backfill (R2.1): the office imports a historical ledger of issues, all-or-nothing.

Each record is reported with its original ``reported_at`` and marked ``imported``, then its
transitions are replayed through the live decisions (R2.3); one bad record rejects the import
with a per-record report, and the transaction that numbered the others rolls back (numbers stay
gap-free). The year counters are locked for the import, so live reports wait until it commits.

Every record has a key (its ``ledger_number`` in the office's ledger, or a ``request_id``);
backfills run one at a time, and a record already imported under its key is skipped and
reported, so uploading the same ledger twice creates nothing the second time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from psycopg.errors import UniqueViolation
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
from .spreadsheets import SheetRow
from .use_cases import IssuesService, details_of

# History kinds of replayed events, as the live use cases name them.
_HISTORY_KIND = {
    "verified": "inspection_pass",
    "reopened": "inspection_fail",
    "extended": "extension_approved",
}
Decided = tuple[BackfillIssue, lifecycle.Issue, list[IssueEvent]]
_LOCK = "issues:backfill"


@dataclass
class Backfill:
    """R2.1 backfill on top of the intake's configuration (prefix, time limits)."""

    issues: IssuesService

    async def run(
        self, data: BackfillIn, who: Principal, rows: list[int] | None = None
    ) -> dict[str, Any]:
        """Import every new record or none; returns the created issues' numbers and the
        records skipped because they were imported before under their key (ledger number or
        request id). A rejection names each bad record by ``rows[i]`` (its spreadsheet line)
        or else its index in the list.

        R1.3 asks for a unit's active flag as of each record's time, but the directory keeps
        only the current state: a unit inactive today is refused unless the office says
        ``allow_inactive_units``.
        """
        service = self.issues
        now = service.now()

        def label(index: int) -> int:
            return rows[index] if rows else index

        rejected = _repeated_keys(data, label)
        if rejected:
            raise ImportRejected(rejected)
        async with service.runtime.transaction() as conn:
            # One backfill at a time: a repeated upload waits and then finds its keys taken.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_LOCK,))
            done = await _imported_before(conn, data)
            skipped: list[dict[str, Any]] = []
            todo: list[tuple[int, BackfillIssue]] = []
            for index, record in enumerate(data.issues):
                number = done.get(("ledger", record.ledger_number)) or done.get(
                    ("request", record.request_id)
                )
                if number is None:
                    todo.append((index, record))
                else:
                    skipped.append(_skipped(label(index), record, number))
            units = await repo.load_units(conn, _unit_ids(r for _, r in todo))
            if data.allow_inactive_units:
                units = {k: replace(u, active=True) for k, u in units.items()}
            decided: list[tuple[int, Decided]] = []
            for index, record in sorted(todo, key=lambda ir: ir[1].reported_at):
                try:
                    decided.append((index, await self._decide(conn, record, units, now)))
                except DomainError as exc:
                    rejected.append(row_error(label(index), record.unit_id, "<record>", str(exc)))
            if rejected:
                raise ImportRejected(sorted(rejected, key=lambda r: r["row"]))
            for index, (record, issue, events) in decided:
                try:
                    await repo.insert_issue(conn, issue, record.request_id, record.ledger_number)
                except UniqueViolation:
                    # A live report took this request id meanwhile; the import rolls back.
                    message = "imported or reported concurrently under this key; retry"
                    error = row_error(label(index), record.unit_id, "request_id", message)
                    raise ImportRejected([error]) from None
                await self._record(conn, issue, events, who, record)
        return {
            "imported": len(decided),
            "numbers": [issue.number for _, (_, issue, _) in decided],
            "skipped": sorted(skipped, key=lambda r: r["row"]),
        }

    async def run_rows(
        self, rows: list[SheetRow], who: Principal, allow_inactive_units: bool = False
    ) -> dict[str, Any]:
        """The same import from spreadsheet rows; bad cells reject the file before any
        record is replayed. Records are named by their line in the file."""
        numbered, rejected = records_from_rows(rows)
        if rejected:
            raise ImportRejected(rejected)
        if not numbered:
            raise ImportRejected([row_error(1, None, "<file>", "the file has no rows")])
        try:
            data = BackfillIn(
                issues=[r for _, r in numbered], allow_inactive_units=allow_inactive_units
            )
        except ValidationError as exc:  # e.g. more records than one backfill takes
            messages = "; ".join(e["msg"] for e in exc.errors())
            raise ImportRejected([row_error(1, None, "<file>", messages)]) from None
        return await self.run(data, who, [line for line, _ in numbered])

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
        self,
        conn: Conn,
        final: lifecycle.Issue,
        events: list[IssueEvent],
        who: Principal,
        record: BackfillIssue,
    ) -> None:
        for event in events:
            at_version = _as_of(final, event)
            kind = "reported" if event.kind == "reported" else event.kind
            data: dict[str, Any] = {"imported": True, "by": who.name}
            if event.kind == "reported":
                data |= {"ledger_number": record.ledger_number, "request_id": record.request_id}
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


def _unit_ids(records: Iterable[BackfillIssue]) -> list[str]:
    ids: set[str] = set()
    for r in records:
        ids |= {r.unit_id} | {t.unit_id for t in r.transitions if t.unit_id}
    return sorted(ids)


def _repeated_keys(data: BackfillIn, label: Callable[[int], int]) -> list[dict[str, Any]]:
    """Two records of one upload under the same key: the later ones are refused."""
    rejected: list[dict[str, Any]] = []
    seen: dict[tuple[str, object], int] = {}
    for index, record in enumerate(data.issues):
        for path, key in (
            ("ledger_number", record.ledger_number),
            ("request_id", record.request_id),
        ):
            if key is None:
                continue
            if (path, key) in seen:
                message = f"{path} {key} repeats record {seen[(path, key)]}"
                rejected.append(row_error(label(index), record.unit_id, path, message))
            else:
                seen[(path, key)] = label(index)
    return rejected


async def _imported_before(conn: Conn, data: BackfillIn) -> dict[tuple[str, Any], str]:
    """The issue numbers already stored under the upload's keys."""
    ledger = [r.ledger_number for r in data.issues if r.ledger_number is not None]
    requests = [r.request_id for r in data.issues if r.request_id is not None]
    found: dict[tuple[str, Any], str] = {}
    for row in await repo.issues_under_keys(conn, ledger, requests):
        if row["ledger_number"] is not None:
            found[("ledger", row["ledger_number"])] = row["number"]
        if row["request_id"] is not None:
            found[("request", row["request_id"])] = row["number"]
    return found


def _skipped(line: int, record: BackfillIssue, number: str) -> dict[str, Any]:
    return {
        "row": line,
        "ledger_number": record.ledger_number,
        "request_id": None if record.request_id is None else str(record.request_id),
        "number": number,
        "reason": "already imported under this key",
    }


def records_from_rows(
    rows: list[SheetRow],
) -> tuple[list[tuple[int, BackfillIssue]], list[dict[str, Any]]]:
    """Spreadsheet rows → backfill records with their lines: ``address``/``lat``/``lon``
    columns form the location, ``photos`` holds URLs separated by spaces, ``transitions`` a
    JSON list, ``ledger_number`` the record's number in the original ledger."""
    records: list[tuple[int, BackfillIssue]] = []
    rejected: list[dict[str, Any]] = []
    for line, row in ((r.line, r.values) for r in rows):
        values: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
        location = {k: values.pop(k) for k in ("address", "lat", "lon") if k in values}
        values["location"] = location
        values["photos"] = values.get("photos", "").split()
        try:
            values["transitions"] = json.loads(values.get("transitions", "[]"))
            records.append((line, BackfillIssue.model_validate(values)))
        except json.JSONDecodeError as exc:
            rejected.append(row_error(line, row.get("unit_id"), "transitions", str(exc)))
        except ValidationError as exc:
            errors = [
                {"path": ".".join(str(p) for p in e["loc"]) or "<row>", "message": e["msg"]}
                for e in exc.errors()
            ]
            rejected.append({"row": line, "unit_id": row.get("unit_id"), "errors": errors})
    return records, rejected
