"""Use cases of the unit directory (责任单位, R1): register, update, (de/re)activate and import.

Each change and its ``units.v1.*`` event are written in one transaction (R1.2); a bulk import
is validated row by row first and then written all-or-nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from services.contracts.commands import RegisterUnit
from services.runtime.db import Conn
from services.runtime.service import ServiceRuntime

from . import repository as repo
from .domain import units
from .domain.errors import DomainError, InvalidCommand
from .events import unit_event
from .spreadsheets import SheetRow

UnitDecision = Callable[[dict[str, units.Unit]], tuple[units.Unit, units.UnitEvent | None]]


class ImportRejected(Exception):
    """An import with at least one bad row: nothing was written; ``rows`` says why per row."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(rows)} rows rejected; nothing was imported")
        self.rows = rows


def unit_view(unit: units.Unit) -> dict[str, Any]:
    """The public JSON shape of a unit."""
    return {
        "unit_id": unit.unit_id,
        "name": unit.name,
        "category": str(unit.category),
        "parent_id": unit.parent_id,
        "active": unit.active,
        "version": unit.version,
    }


def row_error(row: int, unit_id: Any, path: str, message: str) -> dict[str, Any]:
    return {"row": row, "unit_id": unit_id, "errors": [{"path": path, "message": message}]}


@dataclass
class UnitDirectory:
    """R1: the office's unit directory; the clock and id source are injected for tests."""

    runtime: ServiceRuntime
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], UUID] = uuid.uuid4

    async def register(self, data: RegisterUnit) -> dict[str, Any]:
        """R1.1-R1.2: register a unit (``units.v1.registered``), as of ``registered_at`` for
        an office backfill (R1.3, R2.1)."""
        return await self._change([data.unit_id, data.parent_id], self._registrar(data))

    async def update(self, data: RegisterUnit) -> dict[str, Any]:
        """R1.2: replace name, category and parent (``units.v1.updated``; no event if equal)."""
        return await self._change([data.unit_id, data.parent_id], self._updater(data))

    async def deactivate(self, unit_id: str) -> dict[str, Any]:
        """R1.3: the unit leaves future rankings; it is never deleted."""
        return await self._change([unit_id], lambda d: units.deactivate(d, unit_id, self.now()))

    async def reactivate(self, unit_id: str) -> dict[str, Any]:
        """R1.3: the unit takes part in rankings again."""
        return await self._change([unit_id], lambda d: units.reactivate(d, unit_id, self.now()))

    async def all_units(self) -> list[dict[str, Any]]:
        async with self.runtime.pool.connection() as conn:
            return await repo.list_units(conn)

    async def import_rows(self, rows: list[SheetRow]) -> dict[str, Any]:
        """R1.2 bulk import: every row validated first (districts and departments before
        towns, so a town may name a district of the same file); any rejected row rejects the
        whole file with a per-row report. Existing units are updated, new ones registered."""
        commands, rejected = _parse_rows(rows)
        counts = {"registered": 0, "updated": 0, "unchanged": 0}
        async with self.runtime.transaction() as conn:
            ids = [c.unit_id for _, c in commands] + [c.parent_id for _, c in commands]
            directory = await repo.load_units_with_children(conn, ids)
            changed: list[tuple[int, units.Unit, units.UnitEvent]] = []
            for line, cmd in sorted(commands, key=lambda lc: (lc[1].category == "town", lc[0])):
                known = cmd.unit_id in directory
                decide = self._updater(cmd) if known else self._registrar(cmd)
                try:
                    unit, event = decide(directory)
                except DomainError as exc:
                    rejected.append(row_error(line, cmd.unit_id, "<row>", str(exc)))
                    continue
                directory[unit.unit_id] = unit
                kind = "unchanged" if event is None else "updated" if known else "registered"
                counts[kind] += 1
                if event is not None:
                    changed.append((line, unit, event))
            if rejected:
                raise ImportRejected(sorted(rejected, key=lambda r: r["row"]))
            for line, unit, event in changed:
                try:
                    await self._save(conn, unit, event)
                except DomainError as exc:
                    raise ImportRejected(
                        [row_error(line, unit.unit_id, "<row>", str(exc))]
                    ) from None
        return {"imported": len(commands), **counts}

    def _registrar(self, data: RegisterUnit) -> UnitDecision:
        now = self.now()

        def decide(d: dict[str, units.Unit]) -> tuple[units.Unit, units.UnitEvent | None]:
            if data.registered_at is not None and data.registered_at > now:
                raise InvalidCommand("registered_at must not be in the future")
            return units.register(
                d,
                unit_id=data.unit_id,
                name=data.name,
                category=units.Category(data.category),
                parent_id=data.parent_id,
                at=data.registered_at or now,
            )

        return decide

    def _updater(self, data: RegisterUnit) -> UnitDecision:
        def decide(d: dict[str, units.Unit]) -> tuple[units.Unit, units.UnitEvent | None]:
            return units.update(
                d,
                unit_id=data.unit_id,
                name=data.name,
                category=units.Category(data.category),
                parent_id=data.parent_id,
                at=self.now(),
            )

        return decide

    async def _change(self, ids: Iterable[str | None], decide: UnitDecision) -> dict[str, Any]:
        async with self.runtime.transaction() as conn:
            directory = await repo.load_units_with_children(conn, ids)
            unit, event = decide(directory)
            if event is not None:
                await self._save(conn, unit, event)
        return unit_view(unit)

    async def _save(self, conn: Conn, unit: units.Unit, event: units.UnitEvent) -> None:
        if event.kind is units.UnitEventKind.REGISTERED:
            try:
                await repo.insert_unit(conn, unit, event.occurred_at)
            except repo.UnitExists:
                # Registered concurrently since we looked: the answer the domain gives.
                raise InvalidCommand(f"unit {unit.unit_id!r} is already registered") from None
        else:
            await repo.update_unit(conn, unit, event.occurred_at)
        await self.runtime.commit(conn, [unit_event(event, self.new_id)])


def _parse_rows(
    rows: list[SheetRow],
) -> tuple[list[tuple[int, RegisterUnit]], list[dict[str, Any]]]:
    """Validate each spreadsheet row as a unit, named by its line in the file."""
    commands: list[tuple[int, RegisterUnit]] = []
    rejected: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in ((r.line, r.values) for r in rows):
        values = {k: v for k, v in row.items() if v not in ("", None)}
        try:
            cmd = RegisterUnit.model_validate(values)
        except ValidationError as exc:
            errors = [
                {"path": ".".join(str(p) for p in e["loc"]) or "<row>", "message": e["msg"]}
                for e in exc.errors()
            ]
            rejected.append({"row": line, "unit_id": row.get("unit_id"), "errors": errors})
            continue
        if cmd.unit_id in seen:
            message = f"unit_id repeats row {seen[cmd.unit_id]}"
            rejected.append(row_error(line, cmd.unit_id, "unit_id", message))
            continue
        seen[cmd.unit_id] = line
        commands.append((line, cmd))
    if not rows:
        rejected.append(row_error(1, None, "<file>", "the file has no rows under its header"))
    return commands, rejected
