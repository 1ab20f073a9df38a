"""The allocations ledger of one campaign year (R6.4) and the fold that rebuilds its state.

The ledger is append-only: money moves only as ``LedgerEntry`` rows, and each settled revision
of an edition leaves one ``SettledRevision`` row (also the record that makes a redelivery a
no-op). Rows are never updated; state is a fold of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from services.incentives.domain.pool import remaining_fund

EntryKind = Literal["allocation", "adjustment"]


@dataclass(frozen=True)
class LedgerEntry:
    """One movement of money to a unit (R6.3 allocation, or R6.4 adjustment; may be negative)."""

    year: int
    edition: int
    revision: int
    unit_id: str
    fen: int
    kind: EntryKind
    rule_version: str
    source_event_id: str


@dataclass(frozen=True)
class SettledRevision:
    """R6.4: this revision of this edition has been settled; ``pool`` is the ORIGINAL pool."""

    year: int
    edition: int
    revision: int
    cutoff: datetime
    pool: int
    rule_version: str
    source_event_id: str


@dataclass(frozen=True)
class EditionAccount:
    """What one settled edition was given (R6.2) and has paid, net, to each unit."""

    edition: int
    pool: int
    revision: int
    paid: Mapping[str, int] = field(default_factory=dict)

    @property
    def total_paid(self) -> int:
        return sum(self.paid.values())


@dataclass(frozen=True)
class LedgerState:
    """The year's ledger as the settlement decision needs it (R6.2, R6.4).

    ``allocated`` is the net of all entries of the year; ``editions`` holds every settled
    edition, paid or not, so ``len(editions)`` is k. Mappings are never mutated, only replaced.
    """

    year: int
    fund: int
    planned_editions: int
    allocated: int = 0
    editions: Mapping[int, EditionAccount] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.fund < 0:
            raise ValueError(f"fund must be >= 0 fen, got {self.fund}")
        if self.planned_editions < 1:
            raise ValueError(f"planned_editions (E) must be >= 1, got {self.planned_editions}")

    @property
    def settled(self) -> int:
        """R6.2 k: editions of the year already settled, including unspent ones."""
        return len(self.editions)

    @property
    def remaining(self) -> int:
        """R6.2 remaining: fund minus everything allocated so far."""
        return remaining_fund(self.fund, self.allocated)


def record_settled(state: LedgerState, record: SettledRevision) -> LedgerState:
    """Fold one ``SettledRevision`` into the state (R6.4: highest revision, original pool)."""
    _check_year(state, record.year)
    account = state.editions.get(record.edition)
    if account is None:
        account = EditionAccount(record.edition, record.pool, record.revision)
    elif account.pool != record.pool:
        raise ValueError(
            f"edition {record.edition}: pool {record.pool} differs from its original pool "
            f"{account.pool} (R6.4)"
        )
    else:
        account = replace(account, revision=max(account.revision, record.revision))
    return replace(state, editions={**state.editions, record.edition: account})


def record_entries(state: LedgerState, entries: Iterable[LedgerEntry]) -> LedgerState:
    """Fold ledger entries into the state; each must belong to an already recorded edition."""
    editions = dict(state.editions)
    allocated = state.allocated
    for entry in entries:
        _check_year(state, entry.year)
        account = editions.get(entry.edition)
        if account is None:
            raise ValueError(f"entry for edition {entry.edition} that was never settled")
        paid = dict(account.paid)
        paid[entry.unit_id] = paid.get(entry.unit_id, 0) + entry.fen
        if paid[entry.unit_id] == 0:
            del paid[entry.unit_id]
        editions[entry.edition] = replace(account, paid=paid)
        allocated += entry.fen
    return replace(state, allocated=allocated, editions=editions)


def ledger_state(
    year: int,
    fund: int,
    planned_editions: int,
    records: Iterable[SettledRevision],
    entries: Iterable[LedgerEntry],
) -> LedgerState:
    """Rebuild the year's state from its stored rows (R6.4); the row order does not matter."""
    state = LedgerState(year=year, fund=fund, planned_editions=planned_editions)
    for record in records:
        state = record_settled(state, record)
    return record_entries(state, entries)


def _check_year(state: LedgerState, year: int) -> None:
    if year != state.year:
        raise ValueError(f"row of year {year} applied to the ledger of {state.year}")
