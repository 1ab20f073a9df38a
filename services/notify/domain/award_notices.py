"""Notices of one settlement of the incentive fund (R5.4): an award notice to each unit that
received money and a summary to the finance office. Money stays integer fen (R6.1); yuan are
only displayed."""

from __future__ import annotations

from dataclasses import dataclass

from services.notify.domain.notices import NoticeType, OfficeRole, PlannedNotice, Recipient

__all__ = ["AllocationSummary", "Award", "allocation_notices", "yuan"]


@dataclass(frozen=True, kw_only=True)
class Award:
    """Money booked for one unit by the settlement; negative only for an adjustment (R6.4)."""

    unit_id: str
    fen: int
    kind: str


@dataclass(frozen=True, kw_only=True)
class AllocationSummary:
    """One settlement of one edition revision (R6.2-R6.4)."""

    year: int
    edition: int
    revision: int
    pool: int
    fund: int
    allocated_total: int
    remaining: int
    awards: tuple[Award, ...]

    @property
    def about(self) -> str:
        return f"allocation:{self.year}-{self.edition}-r{self.revision}"


def yuan(fen: int) -> str:
    """R6.1: integer fen shown as yuan with two places (``123456`` → ``"1234.56"``)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def allocation_notices(summary: AllocationSummary) -> list[PlannedNotice]:
    """R5.4: an award notice per unit whose money changed in this settlement (summed over its
    entries; a revision's adjustment is notified as such), and the finance office's summary."""
    net: dict[str, int] = {}
    kinds: dict[str, set[str]] = {}
    for award in summary.awards:
        net[award.unit_id] = net.get(award.unit_id, 0) + award.fen
        kinds.setdefault(award.unit_id, set()).add(award.kind)
    edition = (
        ("year", str(summary.year)),
        ("edition", str(summary.edition)),
        ("revision", str(summary.revision)),
    )
    notices = [
        PlannedNotice(
            type=NoticeType.AWARD,
            recipient=Recipient(unit_id=unit_id),
            about=summary.about,
            key_numbers=(
                *edition,
                ("fen", str(fen)),
                ("yuan", yuan(fen)),
                ("kind", "adjustment" if "adjustment" in kinds[unit_id] else "allocation"),
            ),
        )
        for unit_id, fen in sorted(net.items())
        if fen != 0
    ]
    notices.append(
        PlannedNotice(
            type=NoticeType.FINANCE_SUMMARY,
            recipient=Recipient(role=OfficeRole.FINANCE_OFFICE),
            about=summary.about,
            key_numbers=(
                *edition,
                *((f"{name}_fen", str(v)) for name, v in _totals(summary)),
                *((f"{name}_yuan", yuan(v)) for name, v in _totals(summary)),
                ("units", str(sum(1 for fen in net.values() if fen != 0))),
            ),
            items=tuple((u, yuan(fen)) for u, fen in sorted(net.items()) if fen != 0),
        )
    )
    return notices


def _totals(summary: AllocationSummary) -> tuple[tuple[str, int], ...]:
    return (
        ("pool", summary.pool),
        ("fund", summary.fund),
        ("allocated_total", summary.allocated_total),
        ("remaining", summary.remaining),
    )
