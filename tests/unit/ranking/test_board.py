"""The board page's figures (issue 8): the edition as the newspaper prints it (R4.5), rates
across editions per unit and category (R3), overdue issues by unit (R2.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.ranking.domain.board import (
    EditionUnitRow,
    edition_board,
    overdue_by_unit,
    rate_trends,
)

from .factories import SHANGHAI

CUTOFF = datetime(2018, 6, 3, 16, tzinfo=UTC)  # Monday 2018-06-04 00:00 Asia/Shanghai


def _row(unit_id: str, rank: int, bottom: int, rate: str | None) -> dict[str, Any]:
    exact = None if rate is None else {"exact": "1/2", "display": rate}
    return {
        "unit_id": unit_id,
        "name": f"单位{unit_id}",
        "parent_id": None,
        "rank": rank,
        "bottom_rank": bottom,
        "composite": {"exact": "50/1", "display": rate or "70.00"},
        "rate": exact,
        "score": None,
        "reported": 2,
        "rectified": 1,
        "overdue": 1,
        "rework": 0,
        "on_time": 1,
        "on_time_rate": exact,
    }


def _edition() -> dict[str, Any]:
    departments = [
        _row("d1", 1, 4, "90.00"),
        _row("d2", 2, 3, "80.00"),
        _row("d3", 3, 1, "20.00"),  # tied at the bottom with d4 (R4.4)
        _row("d4", 3, 1, "20.00"),
    ]
    return {
        "year": 2018,
        "number": 5,
        "revision": 2,
        "rule_version": "v1",
        "cutoff": "2018-06-03T16:00:00Z",
        "published_at": "2018-06-04T02:00:00Z",
        "input_positions": {"ISSUES": 9},
        "campaign": {"reported": 8, "rectified": 4, "overdue": 4, "rate": {"display": "50.00"}},
        "categories": {
            "department": {"rows": departments, "red": ["d1", "d2"], "black": ["d4", "d3"]},
            "district": {"rows": [_row("q1", 1, 1, None)], "red": [], "black": []},
            "town": {"rows": [], "red": [], "black": []},
        },
    }


def test_the_board_lists_red_in_rank_order_and_black_worst_first_in_local_time() -> None:
    board = edition_board(_edition(), SHANGHAI)
    assert board["cutoff_local"] == "2018-06-04 00:00"
    assert board["published_local"] == "2018-06-04 10:00"
    departments: Any = board["categories"]["department"]  # type: ignore[index]
    assert [r["unit_id"] for r in departments["red"]] == ["d1", "d2"]
    assert [r["unit_id"] for r in departments["black"]] == ["d3", "d4"]  # ties by unit id
    assert departments["ranked"] == 4
    assert departments["red"][0] == {
        "unit_id": "d1",
        "name": "单位d1",
        "rank": 1,
        "bottom_rank": 4,
        "reported": 2,
        "rectified": 1,
        "overdue": 1,
        "composite": "90.00",
        "rate": "90.00",
        "score": None,
    }
    district: Any = board["categories"]["district"]  # type: ignore[index]
    assert district == {"ranked": 1, "red": [], "black": []}
    assert board["campaign"] == {"reported": 8, "rectified": 4, "overdue": 4, "rate": "50.00"}


def _ranked(
    number: int, unit_id: str, category: str, reported: int, rectified: int, name: str = ""
) -> EditionUnitRow:
    return EditionUnitRow(
        year=2018,
        number=number,
        revision=1,
        cutoff=CUTOFF + timedelta(weeks=number),
        unit_id=unit_id,
        name=name or unit_id,
        category=category,
        reported=reported,
        rectified=rectified,
    )


def test_trends_follow_cutoffs_per_unit_and_per_category_exactly() -> None:
    rows = [
        _ranked(2, "d1", "department", 3, 2),
        _ranked(1, "d1", "department", 3, 1, name="旧名"),
        _ranked(1, "d2", "department", 3, 0),
        _ranked(2, "t1", "town", 0, 0),  # ranked on its score alone: no rate (R3.3)
        _ranked(1, "q1", "district", 1, 1),
    ]
    trends: Any = rate_trends(reversed(rows), SHANGHAI)
    assert [(e["number"], e["cutoff_local"]) for e in trends["editions"]] == [
        (1, "2018-06-11 00:00"),
        (2, "2018-06-18 00:00"),
    ]
    # R3.4 within the category: Σ rectified / Σ reported, rounded half up only for display.
    assert trends["categories"] == {
        "department": ["16.67", "66.67"],
        "district": ["100.00", None],
        "town": [None, None],
    }
    assert [(u["unit_id"], u["rates"]) for u in trends["units"]] == [
        ("d1", ["33.33", "66.67"]),
        ("d2", ["0.00", None]),
        ("q1", ["100.00", None]),
        ("t1", [None, None]),
    ]
    assert trends["units"][0]["name"] == "d1"  # the latest edition's name


def test_trends_of_no_edition_are_empty() -> None:
    assert rate_trends([], SHANGHAI) == {
        "editions": [],
        "categories": {"department": [], "district": [], "town": []},
        "units": [],
    }


def test_overdue_lists_units_with_overdue_issues_most_first() -> None:
    units = [
        {"unit_id": "a", "name": "甲", "category": "town", "overdue": 2, "reported": 3},
        {"unit_id": "b", "name": "乙", "category": "department", "overdue": 2, "reported": 2},
        {"unit_id": "c", "name": "丙", "category": "district", "overdue": 0, "reported": 5},
        {"unit_id": "d", "name": "丁", "category": "district", "overdue": 5, "rectified": 1},
    ]
    result: Any = overdue_by_unit(CUTOFF, units)
    assert result["at"] == "2018-06-03T16:00:00Z" and result["total"] == 9
    assert [(u["unit_id"], u["overdue"]) for u in result["units"]] == [
        ("d", 5),
        ("b", 2),  # a tie goes by category order: departments first
        ("a", 2),
    ]
    assert result["units"][0] == {
        "unit_id": "d",
        "name": "丁",
        "category": "district",
        "overdue": 5,
        "reported": 0,
        "rectified": 1,
    }
    first: Any = overdue_by_unit(CUTOFF, units, limit=1)
    assert [u["unit_id"] for u in first["units"]] == ["d"]
