"""R2.1 issue numbers and R2.2 deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.issues.domain.deadlines import deadline_for
from services.issues.domain.errors import InvalidDeadline
from services.issues.domain.numbering import (
    IssueNumber,
    issue_number,
    numbering_year,
    parse_issue_number,
)

FOUND = datetime(2018, 6, 4, 9, 0, tzinfo=UTC)


def test_the_deadline_is_found_at_plus_the_category_limit() -> None:
    # R2.2
    limits = {"暴露垃圾": timedelta(days=1)}
    assert deadline_for(FOUND, "暴露垃圾", None, limits) == FOUND + timedelta(days=1)


def test_a_category_without_a_limit_gets_three_days() -> None:
    # R2.2: default 3 days
    assert deadline_for(FOUND, "乱摆卖", None, {}) == FOUND + timedelta(days=3)


def test_an_explicit_deadline_wins_but_may_not_precede_the_finding() -> None:
    # R2.2
    explicit = FOUND + timedelta(hours=5)
    assert deadline_for(FOUND, "乱摆卖", explicit, {"乱摆卖": timedelta(days=9)}) == explicit
    assert deadline_for(FOUND, "乱摆卖", FOUND, {}) == FOUND
    with pytest.raises(InvalidDeadline):
        deadline_for(FOUND, "乱摆卖", FOUND - timedelta(seconds=1), {})


def test_issue_numbers_are_zero_padded_per_year() -> None:
    # R2.1
    assert issue_number("JM", 2018, 123) == "JM-2018-000123"
    assert parse_issue_number("JM-2018-000123") == IssueNumber(prefix="JM", year=2018, seq=123)
    assert issue_number("JM", 2018, 1_234_567) == "JM-2018-1234567"


@pytest.mark.parametrize(
    "text", ["JM-2018-123", "jm-2018-000123", "JM-18-000123", "JM-2018-0000123", "JM-2018-000000"]
)
def test_non_canonical_issue_numbers_are_refused(text: str) -> None:
    # R2.1: unique, so one spelling per number
    with pytest.raises(ValueError, match=r"issue number|canonical|start at 1"):
        parse_issue_number(text)


@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10),
    st.integers(1000, 9999),
    st.integers(1, 10**9),
)
def test_issue_numbers_round_trip(prefix: str, year: int, seq: int) -> None:
    # R2.1
    assert parse_issue_number(issue_number(prefix, year, seq)) == IssueNumber(
        prefix=prefix, year=year, seq=seq
    )


def test_numbering_year_is_the_shanghai_calendar_year() -> None:
    # R2.1 per-year numbering, in the campaign's time zone
    assert numbering_year(datetime(2018, 12, 31, 16, 30, tzinfo=UTC)) == 2019
    assert numbering_year(datetime(2018, 12, 31, 15, 59, tzinfo=UTC)) == 2018
