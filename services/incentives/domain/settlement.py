"""Settling an edition against the fund (R6.2-R6.4): a pure ``decide(state, edition)``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Literal

from services.incentives.domain.apportionment import apportion
from services.incentives.domain.fund import DEFAULT_ELIGIBLE_CATEGORIES
from services.incentives.domain.ledger import (
    LedgerEntry,
    LedgerState,
    SettledRevision,
    record_entries,
    record_settled,
)
from services.incentives.domain.pool import pool_for_edition, remaining_fund

Outcome = Literal["allocated", "adjusted", "ignored"]


@dataclass(frozen=True)
class RedListedUnit:
    """A unit on the edition's red list (红榜, R4.5) with its exact composite score (R4.3)."""

    unit_id: str
    category: str
    score: Fraction


@dataclass(frozen=True)
class EditionSummary:
    """What settlement needs from a published edition (R4.1, R7)."""

    year: int
    number: int
    revision: int
    cutoff: datetime
    rule_version: str
    event_id: str
    red: tuple[RedListedUnit, ...] = ()
    black: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ValueError(f"number must be >= 1, got {self.number}")
        if self.revision < 1:
            raise ValueError(f"revision must be >= 1, got {self.revision}")
        if self.cutoff.tzinfo is None:
            raise ValueError("cutoff must be timezone-aware")
        ids = [unit.unit_id for unit in self.red]
        if len(set(ids)) != len(ids):
            raise ValueError(f"red list names a unit twice: {sorted(ids)}")
        for unit in self.red:
            if not 0 <= unit.score <= 100:
                raise ValueError(f"score of {unit.unit_id!r} must be in [0, 100] (R4.3)")


@dataclass(frozen=True)
class Settlement:
    """The decision for one edition revision.

    ``pool`` is the edition's original pool (R6.2), ``split`` what was divided this time (the
    pool, or for a revision the pool capped per R6.4, 0 when ignored), ``remaining`` the year's
    balance afterwards. ``record`` is None exactly when the revision was ignored (R6.4).
    """

    outcome: Outcome
    pool: int
    split: int
    remaining: int
    entries: tuple[LedgerEntry, ...] = ()
    record: SettledRevision | None = field(default=None)


def payable_scores(
    edition: EditionSummary, eligible_categories: Collection[str] = DEFAULT_ELIGIBLE_CATEGORIES
) -> dict[str, Fraction]:
    """R6.3: red-listed units of eligible categories (R6.1), never a black-listed one."""
    return {
        unit.unit_id: unit.score
        for unit in edition.red
        if unit.category in eligible_categories and unit.unit_id not in edition.black
    }


def decide(
    state: LedgerState,
    edition: EditionSummary,
    eligible_categories: Collection[str] = DEFAULT_ELIGIBLE_CATEGORIES,
) -> Settlement:
    """Settle one revision of an edition against the year's ledger (R6.2, R6.3, R6.4).

    - first revision seen of the edition: a pool per R6.2, split per R6.3 as allocations;
      the edition counts towards k even when nothing is paid;
    - a revision at or below the highest settled one: ignored, no entries (R6.4);
    - a higher revision: re-split the ORIGINAL pool, capped at remaining plus what the
      edition had paid, over the new red list; only per-unit differences are booked, as
      adjustments; k is unchanged (R6.4).
    The year's net allocations never exceed the fund (R6.4).
    """
    if edition.year != state.year:
        raise ValueError(f"edition of year {edition.year} settled against {state.year}")
    scores = payable_scores(edition, eligible_categories)
    account = state.editions.get(edition.number)

    if account is None:
        pool = pool_for_edition(state.fund, state.allocated, state.planned_editions, state.settled)
        shares = apportion(pool, scores)
        entries = _entries(edition, shares, "allocation")
        return _settled(state, edition, "allocated", pool, pool, entries)

    if edition.revision <= account.revision:
        return Settlement("ignored", account.pool, 0, state.remaining)

    # The cap keeps the year within its fund even if earlier editions have taken most of it.
    split = min(account.pool, state.remaining + account.total_paid)
    shares = apportion(split, scores)
    units = sorted(set(shares) | set(account.paid))
    differences = {u: shares.get(u, 0) - account.paid.get(u, 0) for u in units}
    entries = _entries(edition, {u: d for u, d in differences.items() if d != 0}, "adjustment")
    return _settled(state, edition, "adjusted", account.pool, split, entries)


def evolve(state: LedgerState, settlement: Settlement) -> LedgerState:
    """Apply a decision to the state (the fold step matching ``ledger.ledger_state``)."""
    if settlement.record is None:
        return state
    return record_entries(record_settled(state, settlement.record), settlement.entries)


def _entries(
    edition: EditionSummary, amounts: dict[str, int], kind: Literal["allocation", "adjustment"]
) -> tuple[LedgerEntry, ...]:
    return tuple(
        LedgerEntry(
            year=edition.year,
            edition=edition.number,
            revision=edition.revision,
            unit_id=unit_id,
            fen=fen,
            kind=kind,
            rule_version=edition.rule_version,
            source_event_id=edition.event_id,
        )
        for unit_id, fen in sorted(amounts.items())
    )


def _settled(
    state: LedgerState,
    edition: EditionSummary,
    outcome: Outcome,
    pool: int,
    split: int,
    entries: tuple[LedgerEntry, ...],
) -> Settlement:
    record = SettledRevision(
        year=edition.year,
        edition=edition.number,
        revision=edition.revision,
        cutoff=edition.cutoff,
        pool=pool,
        rule_version=edition.rule_version,
        source_event_id=edition.event_id,
    )
    remaining = remaining_fund(state.fund, state.allocated + sum(entry.fen for entry in entries))
    return Settlement(outcome, pool, split, remaining, entries, record)


def waits_for(state: LedgerState, edition: EditionSummary) -> int | None:
    """R6.2: editions are settled strictly in order of first publication, which ranking numbers
    1, 2, 3... within the year. The first revision of edition n waits until n-1 is settled;
    returns the number it waits for, or None when it can be settled now (later revisions of a
    settled edition never wait)."""
    earlier = edition.number - 1
    if edition.number in state.editions or earlier < 1 or earlier in state.editions:
        return None
    return earlier
