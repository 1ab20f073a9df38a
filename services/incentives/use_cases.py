"""One function per use case: load, decide (pure domain), save ledger + outbox + processed id
in one transaction (STYLE.md 3)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from faststream.nats import NatsMessage
from prometheus_client import Counter

from services.contracts.ranking import EditionPublished
from services.runtime.db import Conn
from services.runtime.failures import NotReady
from services.runtime.http import NotFound
from services.runtime.inbox import first_delivery
from services.runtime.service import ServiceRuntime, stream_position

from . import repository as repo
from .domain.fund import FundMismatch, FundSettings, fund_mismatch
from .domain.money import fen_to_yuan
from .domain.pool import remaining_fund
from .domain.settlement import EditionSummary, decide, waits_for
from .events import allocated_event, edition_summary, unit_directory
from .exports import ExportFile, ledger_export, to_csv, to_xlsx
from .ordering import SettlementOrder

EDITIONS_CONSUMER = "incentives-ranking-v1-edition_published"
log = logging.getLogger(__name__)
FUND_MISMATCHES = Counter(
    "chuangwen_incentives_fund_settings_mismatch_total",
    "Settlements refused because the fund settings differ from the year's stored fund",
    ["year"],
)


class FundSettingsMismatch(RuntimeError):
    """The fund settings of a year differ from the fund its ledger was settled against.

    The rule (R6.1, R6.2): a year's fund and E are fixed by its first settlement (the stored
    ``funds`` row); no money moves in that year while the settings disagree. The handler fails
    with this error: an ERROR log with both values, ``chuangwen_incentives_fund_settings_
    mismatch_total`` and the runtime's failure metric; the edition is retried with backoff and
    dead-lettered at ``max_deliver`` (later editions of the year then wait for it). To resume,
    either restore the settings, or, as a deliberate decision, change the stored row to the new
    numbers (``UPDATE funds SET fund = ..., planned_editions = ... WHERE year = ...``; the
    database still refuses a fund below what is allocated) and replay the dead letter.
    """

    def __init__(self, mismatch: FundMismatch) -> None:
        super().__init__(mismatch.describe())
        self.mismatch = mismatch


def _mismatch_fields(mismatch: FundMismatch) -> dict[str, int]:
    return {
        "year": mismatch.year,
        "stored_fund_fen": mismatch.stored_fund_fen,
        "settings_fund_fen": mismatch.settings_fund_fen,
        "stored_planned_editions": mismatch.stored_planned_editions,
        "settings_planned_editions": mismatch.settings_planned_editions,
    }


@dataclass
class IncentivesService:
    """The incentives service's use cases; the clock and id source are injected for tests."""

    runtime: ServiceRuntime
    fund_settings: FundSettings
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], UUID] = uuid.uuid4
    # How long edition n waits in process for n-1 before it is nak'ed (R6.2 order); well
    # inside the consumer's ack_wait.
    order_wait_seconds: float = 20.0
    _order: SettlementOrder = field(default_factory=SettlementOrder, init=False, repr=False)

    async def settle_edition(self, event: EditionPublished, msg: NatsMessage) -> bool:
        """R6.2-R6.4: settle one edition revision against its year's fund, at most once.

        Editions are settled in the order of their numbers, which ranking gives in order of
        first publication (one relay publishes at a time, so that is also their order on the
        stream); edition n waits for n-1: in process while n-1 is handled here (for at most
        ``order_wait_seconds``), else by a nak (``ordering.py``). Returns False for a duplicate.
        """
        edition = edition_summary(event, ZoneInfo(self.fund_settings.timezone))
        _, seq = stream_position(msg)

        async def settle(conn: Conn) -> None:
            # Each attempt is settled at the instant of its own transaction.
            await self._settle(event, edition, seq, self.now(), conn)

        give_up = time.monotonic() + self.order_wait_seconds
        async with self._order.handling(edition.year, edition.number):
            while True:
                try:
                    applied = await self.runtime.apply_once(EDITIONS_CONSUMER, event, msg, settle)
                except NotReady:
                    left = give_up - time.monotonic()
                    earlier = edition.number - 1
                    if left <= 0 or not await self._order.wait_for(edition.year, earlier, left):
                        raise
                    continue
                await self._order.settled(edition.year, edition.number)
                return applied

    async def settle_replayed(
        self, conn: Conn, event: EditionPublished, seq: int, at: datetime
    ) -> bool:
        """`settle_edition` without the transport, for the rebuild (``rebuild.py``): inside the
        caller's transaction ``conn``, record the edition's event id as applied by the
        consumer (a redelivery after the rebuild is then a duplicate) and settle it as settled
        at ``at`` (the time of the original settlement, which the log keeps). The caller
        replays the RANKING stream in order, so it keeps the R6.2 order itself (``NotReady``
        when edition n-1 is not settled yet). Returns False for a duplicate."""
        edition = edition_summary(event, ZoneInfo(self.fund_settings.timezone))
        if not await first_delivery(conn, EDITIONS_CONSUMER, event.event_id, event.SUBJECT, seq):
            return False
        await self._settle(event, edition, seq, at, conn)
        return True

    async def _settle(
        self,
        event: EditionPublished,
        edition: EditionSummary,
        seq: int | None,
        at: datetime,
        conn: Conn,
    ) -> None:
        """In one transaction: the locked fund row, the appended ledger rows, the unit names
        and the ``incentives.v1.allocated`` event (none when the revision is ignored). ``at``
        is the settlement's one instant: the rows' booking time and the event's
        ``occurred_at``, so that a rebuild can book the rows again at the time the log has."""
        fund = await repo.lock_fund(
            conn,
            edition.year,
            self.fund_settings.fund_for(edition.year),
            self.fund_settings.planned_editions_for(edition.year),
        )
        mismatch = fund_mismatch(self.fund_settings, fund.year, fund.fund, fund.planned_editions)
        if mismatch is not None:  # R6.1/R6.2: never settle against numbers other than stored
            FUND_MISMATCHES.labels(str(fund.year)).inc()
            log.error(
                "settlement refused: %s", mismatch.describe(), extra=_mismatch_fields(mismatch)
            )
            raise FundSettingsMismatch(mismatch)
        state = await repo.load_ledger(conn, fund)
        earlier = waits_for(state, edition)
        if earlier is not None:  # R6.2
            raise NotReady(f"edition {earlier} of {edition.year} is not settled yet", 1.0)
        settlement = decide(state, edition, self.fund_settings.eligible_categories)
        if settlement.record is None:  # R6.4: a revision already settled adds nothing
            return
        fund = await repo.save_settlement(conn, fund, settlement, seq, at)
        # Names for the exports (R1.1); a unit no longer ranked keeps its earlier name.
        names = unit_directory(event)
        paid = {e.unit_id: names[e.unit_id] for e in settlement.entries if e.unit_id in names}
        await repo.save_unit_names(conn, edition.year, edition.number, edition.revision, paid)
        allocated = allocated_event(
            settlement,
            edition,
            fund=fund.fund,
            allocated_total=fund.allocated,
            version=fund.version,
            event_id=self.new_id(),
            occurred_at=at,
            stream_seq=seq,
        )
        await self.runtime.commit(conn, [allocated])

    async def check_fund_settings(self) -> list[FundMismatch]:
        """At start: a WARNING for each year whose stored fund differs from the settings (its
        settlements will be refused, see `FundSettingsMismatch`); returns those years."""
        async with self.runtime.pool.connection() as conn:
            rows = await repo.stored_funds(conn)
        found = []
        for row in rows:
            mismatch = fund_mismatch(
                self.fund_settings, row["year"], row["fund"], row["planned_editions"]
            )
            if mismatch is not None:
                found.append(mismatch)
                log.warning(
                    "%s; its editions will not be settled until they agree",
                    mismatch.describe(),
                    extra=_mismatch_fields(mismatch),
                )
        return found

    # -- queries -----------------------------------------------------------------------------
    async def fund(self, year: int) -> dict[str, Any]:
        """R6.1-R6.2: the year's fund, what is allocated and what remains, in fen and yuan.

        A year nothing was settled in yet shows its fund from the settings, untouched."""
        async with self.runtime.pool.connection() as conn:
            row = await repo.fund_figures(conn, year)
        if row is None:
            row = {
                "fund": self.fund_settings.fund_for(year),
                "planned_editions": self.fund_settings.planned_editions_for(year),
                "allocated": 0,
                "editions_settled": 0,
            }
        remaining = remaining_fund(row["fund"], row["allocated"])
        return {
            "year": year,
            **_money("fund", row["fund"]),
            **_money("allocated", row["allocated"]),
            **_money("remaining", remaining),
            "editions_settled": row["editions_settled"],
            "planned_editions": row["planned_editions"],
        }

    async def allocations(self, year: int, edition: int) -> dict[str, Any]:
        """R6.2-R6.4: each settled revision of an edition with its pool and per-unit fen."""
        async with self.runtime.pool.connection() as conn:
            revisions = await repo.edition_revisions(conn, year, edition)
            booked = await repo.entries(conn, year, edition=edition)
        if not revisions:
            raise NotFound(f"edition {edition} of {year} has not been settled")
        paid: dict[str, int] = {}
        for entry in booked:
            paid[entry["unit_id"]] = paid.get(entry["unit_id"], 0) + entry["fen"]
        return {
            "year": year,
            "edition": edition,
            "revisions": [
                {
                    "revision": r["revision"],
                    "outcome": r["outcome"],
                    "cutoff": r["cutoff"].isoformat(),
                    "rule_version": r["rule_version"],
                    "stream_seq": r["stream_seq"],
                    **_money("pool", r["pool"]),
                    **_money("split", r["split"]),
                    "awards": [_entry_view(e) for e in booked if e["revision"] == r["revision"]],
                }
                for r in revisions
            ],
            "paid": [
                {"unit_id": unit_id, **_money("", fen)}
                for unit_id, fen in sorted(paid.items())
                if fen != 0
            ],
        }

    async def ledger(self, year: int, unit_id: str | None) -> list[dict[str, Any]]:
        """R6.4: the year's ledger entries in booking order, optionally of one unit."""
        async with self.runtime.pool.connection() as conn:
            rows = await repo.entries(conn, year, unit_id=unit_id)
        return [_entry_view(row) for row in rows]

    async def export_ledger(
        self, year: int, unit_id: str | None, file_format: Literal["csv", "xlsx"]
    ) -> ExportFile:
        """The year's ledger for the finance office, as CSV or XLSX (totals to the fen)."""
        async with self.runtime.pool.connection() as conn:
            rows = await repo.export_rows(conn, year, unit_id)
        export = ledger_export(year, rows, ZoneInfo(self.fund_settings.timezone))
        return to_csv(export) if file_format == "csv" else to_xlsx(export)


def _money(name: str, fen: int) -> dict[str, Any]:
    """R6.1: integer fen beside a yuan string for people."""
    prefix = f"{name}_" if name else ""
    return {f"{prefix}fen": fen, f"{prefix}yuan": fen_to_yuan(fen)}


def _entry_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "year": row["year"],
        "edition": row["edition"],
        "revision": row["revision"],
        "unit_id": row["unit_id"],
        "kind": row["kind"],
        **_money("", row["fen"]),
        "rule_version": row["rule_version"],
        "source_event_id": str(row["source_event_id"]),
        "booked_at": row["booked_at"].isoformat(),
    }
