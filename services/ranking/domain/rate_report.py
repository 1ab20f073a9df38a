"""The rectification rates (整改率) of every unit at an instant T (R3), for ``GET /v1/rates``.

Unlike an edition, this lists every unit the directory knows at T, active or not, ranked or not,
with its counts (R3.1-R3.5), and the campaign-wide figure (R3.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from services.ranking.domain.issues import IssueFact, issues_as_of
from services.ranking.domain.payload import counts_payload, instant_text
from services.ranking.domain.rates import UnitRate, total_of, unit_rates
from services.ranking.domain.units import UnitFact, unit_as_of

__all__ = ["rate_report", "rate_report_of"]


def rate_report(
    at: datetime, unit_facts: Iterable[UnitFact], issue_facts: Iterable[IssueFact]
) -> dict[str, object]:
    """R3.1-R3.5 per unit as of ``at`` (R1.3: name, category and active flag as of ``at``) and
    R3.4 campaign-wide; JSON-ready with exact fractions beside their display (R7)."""
    return rate_report_of(at, unit_facts, unit_rates(issues_as_of(issue_facts, at).values()))


def rate_report_of(
    at: datetime, unit_facts: Iterable[UnitFact], rates: Mapping[str, UnitRate]
) -> dict[str, object]:
    """`rate_report` from every unit's R3 counts at ``at`` (units with none may be absent)."""
    units = unit_as_of(unit_facts, at)
    rows = [
        {
            "unit_id": unit.unit_id,
            "name": unit.name,
            "category": unit.category.value,
            "parent_id": unit.parent_id,
            "active": unit.active,
            **counts_payload(rates.get(unit.unit_id, UnitRate(unit_id=unit.unit_id))),
        }
        for unit in units.values()
    ]
    return {
        "at": instant_text(at),
        "units": rows,
        "campaign": counts_payload(total_of(rates.values())),
    }
