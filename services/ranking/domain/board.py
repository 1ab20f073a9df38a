"""What the board page shows besides the latest edition: rate trends across published editions
(R3) and overdue issues by unit (R2.4, R3.5). Pure: rows in, JSON-ready dicts out.

Every figure comes from published editions or the projection; nothing is ranked here. A
category's rate in an edition is Σ rectified / Σ reported over the units ranked in it (R3.4
restricted to the category), so it is exact and recomputable like the campaign figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from fractions import Fraction
from typing import Any

from services.ranking.domain.numbers import display_percent
from services.ranking.domain.payload import instant_text
from services.ranking.domain.units import Category

__all__ = ["EditionUnitRow", "edition_board", "local_text", "overdue_by_unit", "rate_trends"]

# What the board shows of each ranked unit (the edition has more: see RankedUnit).
_ROW_KEYS = ("unit_id", "name", "rank", "bottom_rank", "reported", "rectified", "overdue")


def local_text(instant: datetime, tz: tzinfo) -> str:
    """An instant as the office reads it: local date and time, e.g. ``2030-01-07 00:00``."""
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _display(value: object) -> str | None:
    return str(value["display"]) if isinstance(value, Mapping) else None


def _shown(row: Mapping[str, Any]) -> dict[str, object]:
    return {
        **{k: row[k] for k in _ROW_KEYS},
        "composite": _display(row["composite"]),
        "rate": _display(row["rate"]),
        "score": _display(row["score"]),
    }


def edition_board(edition: Mapping[str, Any], tz: tzinfo) -> dict[str, object]:
    """The red and black lists of a published edition as the newspaper prints them (R4.5): per
    category, the red list in rank order and the black list worst first (by ``bottom_rank``),
    each row with its rank, composite score and rate as published (display strings, R7)."""
    categories: dict[str, object] = {}
    for category in Category:
        board = edition["categories"][category.value]
        rows = board["rows"]  # in rank order (R4.4)
        red_ids, black_ids = set(board["red"]), set(board["black"])
        red = [_shown(r) for r in rows if r["unit_id"] in red_ids]
        black_rows = sorted(
            (r for r in rows if r["unit_id"] in black_ids),
            key=lambda r: (int(r["bottom_rank"]), str(r["unit_id"])),
        )
        black = [_shown(r) for r in black_rows]
        categories[category.value] = {"ranked": len(rows), "red": red, "black": black}
    campaign = edition["campaign"]
    cutoff = datetime.fromisoformat(edition["cutoff"])
    return {
        **{k: edition[k] for k in ("year", "number", "revision", "rule_version", "cutoff")},
        "cutoff_local": local_text(cutoff, tz),
        "published_at": edition["published_at"],
        "published_local": local_text(datetime.fromisoformat(edition["published_at"]), tz),
        "campaign": {
            "reported": campaign["reported"],
            "rectified": campaign["rectified"],
            "overdue": campaign["overdue"],
            "rate": _display(campaign["rate"]),
        },
        "categories": categories,
    }


@dataclass(frozen=True)
class EditionUnitRow:
    """One ranked unit in one published edition (its latest revision)."""

    year: int
    number: int
    revision: int
    cutoff: datetime
    unit_id: str
    name: str
    category: str
    reported: int
    rectified: int


def _percent(rectified: int, reported: int) -> str | None:
    # R3.3: undefined without reported issues; displayed as a percentage rounded half up.
    return None if reported == 0 else display_percent(Fraction(rectified, reported))


def rate_trends(rows: Iterable[EditionUnitRow], tz: tzinfo) -> dict[str, object]:
    """Per unit and per category, the rate in each edition, oldest cutoff first.

    ``editions`` is the x axis; each series has one value per edition (``None`` where the unit
    was not ranked or had nothing reported). Units are listed by category, then name."""
    rows = list(rows)
    keys = sorted(
        {(r.cutoff, r.year, r.number, r.revision) for r in rows}, key=lambda k: (k[0], k[1], k[2])
    )
    index = {(year, number): i for i, (_, year, number, _) in enumerate(keys)}
    editions = [
        {
            "year": year,
            "number": number,
            "revision": revision,
            "cutoff": instant_text(cutoff),
            "cutoff_local": local_text(cutoff, tz),
        }
        for cutoff, year, number, revision in keys
    ]
    totals = {c.value: [[0, 0] for _ in keys] for c in Category}
    units: dict[str, dict[str, object]] = {}
    rates: dict[str, list[str | None]] = {}
    for r in rows:
        i = index[r.year, r.number]
        total = totals.setdefault(r.category, [[0, 0] for _ in keys])[i]
        total[0] += r.rectified
        total[1] += r.reported
        # The latest edition's name and category win (R1.3: they may change over time).
        units[r.unit_id] = {"unit_id": r.unit_id, "name": r.name, "category": r.category}
        rates.setdefault(r.unit_id, [None] * len(keys))[i] = _percent(r.rectified, r.reported)
    order = {c.value: n for n, c in enumerate(Category)}
    listed = sorted(
        units.values(),
        key=lambda u: (order.get(str(u["category"]), len(order)), str(u["name"]), u["unit_id"]),
    )
    return {
        "editions": editions,
        "categories": {
            category: [_percent(done, reported) for done, reported in per_edition]
            for category, per_edition in totals.items()
        },
        "units": [{**u, "rates": rates[str(u["unit_id"])]} for u in listed],
    }


def overdue_by_unit(
    at: datetime, units: Sequence[Mapping[str, object]], limit: int | None = None
) -> dict[str, object]:
    """R2.4, R3.5: units with issues overdue at ``at``, most first (ties by category order,
    then name), from the rows of a rate report; ``total`` counts every overdue issue."""
    order = {c.value: n for n, c in enumerate(Category)}
    overdue = [u for u in units if _count(u.get("overdue")) > 0]
    overdue.sort(
        key=lambda u: (
            -_count(u.get("overdue")),
            order.get(str(u.get("category")), len(order)),
            str(u.get("name")),
            str(u.get("unit_id")),
        )
    )
    rows = [
        {
            "unit_id": u["unit_id"],
            "name": u["name"],
            "category": u["category"],
            "overdue": _count(u.get("overdue")),
            "reported": _count(u.get("reported")),
            "rectified": _count(u.get("rectified")),
        }
        for u in overdue
    ]
    return {
        "at": instant_text(at),
        "total": sum(_count(u.get("overdue")) for u in overdue),
        "units": rows if limit is None else rows[:limit],
    }


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
