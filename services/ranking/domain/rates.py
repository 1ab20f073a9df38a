"""Rectification rate (整改率, R3) per unit and campaign-wide at a cutoff T."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from services.ranking.domain.issues import IssueSnapshot

__all__ = ["RateCounts", "UnitRate", "campaign_totals", "merge_rates", "total_of", "unit_rates"]


@dataclass(frozen=True, kw_only=True)
class RateCounts:
    """R3.1-R3.5 counts over a set of issues at T (void issues already left out)."""

    reported: int = 0
    rectified: int = 0
    overdue: int = 0
    rework: int = 0
    on_time: int = 0

    @property
    def rate(self) -> Fraction | None:
        """R3.3: rectified / reported, undefined (None) when nothing is reported."""
        return Fraction(self.rectified, self.reported) if self.reported else None

    @property
    def on_time_rate(self) -> Fraction | None:
        """R3.5: issues first rectified by their deadline / reported; None when none reported."""
        return Fraction(self.on_time, self.reported) if self.reported else None

    def plus(self, other: RateCounts) -> RateCounts:
        """The counts of two disjoint sets of issues together (R3 counts are sums)."""
        return RateCounts(
            reported=self.reported + other.reported,
            rectified=self.rectified + other.rectified,
            overdue=self.overdue + other.overdue,
            rework=self.rework + other.rework,
            on_time=self.on_time + other.on_time,
        )


@dataclass(frozen=True, kw_only=True)
class UnitRate(RateCounts):
    """R3: one unit's counts at T."""

    unit_id: str


def _tally(issues: Iterable[IssueSnapshot]) -> RateCounts:
    reported = rectified = overdue = rework = on_time = 0
    for issue in issues:
        if not issue.counts:
            continue  # R2.3/R3.1: a void issue leaves every count.
        reported += 1
        rectified += issue.is_rectified
        overdue += issue.overdue
        rework += issue.rework_count
        on_time += issue.on_time
    return RateCounts(
        reported=reported, rectified=rectified, overdue=overdue, rework=rework, on_time=on_time
    )


def unit_rates(issues: Iterable[IssueSnapshot]) -> dict[str, UnitRate]:
    """R3.1-R3.5, R2.6: counts per unit from the issues' snapshots at T.

    An issue counts for the unit that owns it at T, so a transfer moves it for cutoffs after the
    transfer only (the snapshot already says who owns it then). Units with no counted issue are
    absent; callers treat that as ``reported = 0``.
    """
    by_unit: dict[str, list[IssueSnapshot]] = {}
    for issue in issues:
        if issue.counts:
            by_unit.setdefault(issue.unit_id, []).append(issue)
    rates: dict[str, UnitRate] = {}
    for unit_id in sorted(by_unit):
        counts = _tally(by_unit[unit_id])
        rates[unit_id] = UnitRate(
            unit_id=unit_id,
            reported=counts.reported,
            rectified=counts.rectified,
            overdue=counts.overdue,
            rework=counts.rework,
            on_time=counts.on_time,
        )
    return rates


def campaign_totals(issues: Iterable[IssueSnapshot]) -> RateCounts:
    """R3.4: the campaign-wide counts, over every issue of every unit (inactive units and units
    missing from the directory included), e.g. 3107 rectified of 3440 reported = 90.3%."""
    return _tally(issues)


def merge_rates(
    counted: Mapping[str, RateCounts], issues: Iterable[IssueSnapshot]
) -> dict[str, UnitRate]:
    """R3.1-R3.5: per unit, counts already summed elsewhere (``counted``, e.g. by the database
    over issues that did not change after T) plus the snapshots of the other issues at T.

    The two sets must be disjoint; ``unit_rates(a + b) == merge_rates(counts of a, b)``."""
    totals = dict(counted)
    for unit_id, rate in unit_rates(issues).items():
        totals[unit_id] = totals.get(unit_id, RateCounts()).plus(rate)
    return {
        unit_id: UnitRate(
            unit_id=unit_id,
            reported=c.reported,
            rectified=c.rectified,
            overdue=c.overdue,
            rework=c.rework,
            on_time=c.on_time,
        )
        for unit_id, c in sorted(totals.items())
        if c.reported
    }


def total_of(rates: Iterable[RateCounts]) -> RateCounts:
    """R3.4: campaign-wide counts as the sum of every unit's (inactive and unknown units too)."""
    every = list(rates)
    return RateCounts(
        reported=sum(r.reported for r in every),
        rectified=sum(r.rectified for r in every),
        overdue=sum(r.overdue for r in every),
        rework=sum(r.rework for r in every),
        on_time=sum(r.on_time for r in every),
    )
