"""R2.5: the seeded re-inspection draw."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime
from fractions import Fraction
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.issues.domain.reinspection import draw, draw_size, rectified_window


def _ids(n: int) -> list[UUID]:
    return [UUID(int=i + 1) for i in range(n)]


@pytest.mark.parametrize(("n", "expected"), [(0, 0), (1, 1), (3, 1), (4, 2), (10, 3), (11, 4)])
def test_the_draw_takes_the_ceiling_of_thirty_percent(n: int, expected: int) -> None:
    # R2.5: default 30%, rounded up so a day with a rectified issue always gets a re-inspection
    assert draw_size(n) == expected
    assert len(draw(_ids(n), seed="2018-06-04")) == expected


def test_the_draw_is_the_smallest_sha256_tickets() -> None:
    # R2.5: recomputable by hand, independent of Python's random module
    ids = _ids(10)
    tickets = sorted(ids, key=lambda i: hashlib.sha256(f"s\n{i}".encode()).hexdigest())
    assert draw(ids, seed="s") == sorted(tickets[:3])


def test_the_share_is_configurable_and_bounded() -> None:
    # R2.5
    assert draw(_ids(5), Fraction(1), seed="x") == _ids(5)
    assert draw(_ids(5), Fraction(0), seed="x") == []
    with pytest.raises(ValueError, match="share"):
        draw(_ids(5), Fraction(3, 2), seed="x")


@given(
    st.lists(st.uuids(), max_size=40),
    st.randoms(use_true_random=False),
    st.text(max_size=10),
)
def test_the_draw_is_reproducible_and_independent_of_input_order(
    ids: list[UUID], shuffler: random.Random, seed: str
) -> None:
    # R2.5: seeded, reproducible; duplicates do not weigh twice
    shuffled = ids * 2
    shuffler.shuffle(shuffled)
    drawn = draw(ids, seed=seed)
    assert drawn == draw(shuffled, seed=seed)
    assert drawn == sorted(drawn)
    assert set(drawn) <= set(ids)
    assert len(drawn) == draw_size(len(set(ids)))


def test_different_days_draw_differently() -> None:
    # R2.5: the seed names the day, so the draw changes from day to day
    ids = _ids(50)
    assert draw(ids, seed="2018-06-04") != draw(ids, seed="2018-06-05")


def test_the_population_is_the_shanghai_day_before() -> None:
    # R2.5 "the day before", in the campaign's time zone
    start, end = rectified_window(date(2018, 6, 5))
    assert start == datetime(2018, 6, 3, 16, 0, tzinfo=UTC)
    assert end == datetime(2018, 6, 4, 16, 0, tzinfo=UTC)
