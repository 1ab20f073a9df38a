"""R6.2: the pool of an edition is floor(remaining / max(1, E - k))."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.incentives.domain.pool import pool_for_edition


def test_worked_example_first_edition_of_2018_gets_15_094_339_fen() -> None:
    assert pool_for_edition(800_000_000, 0, planned=53, settled=0) == 15_094_339


def test_pool_spreads_what_remains_over_the_editions_still_planned() -> None:
    assert pool_for_edition(800_000_000, 15_094_339, planned=53, settled=1) == 15_094_339
    assert pool_for_edition(1_000, 400, planned=4, settled=1) == 200


def test_last_planned_edition_takes_all_that_remains() -> None:
    assert pool_for_edition(1_000, 401, planned=4, settled=3) == 599


def test_editions_beyond_the_plan_take_all_that_remains() -> None:
    assert pool_for_edition(1_000, 401, planned=4, settled=9) == 599


def test_an_exhausted_fund_gives_an_empty_pool() -> None:
    assert pool_for_edition(1_000, 1_000, planned=4, settled=2) == 0
    # A fund lowered below what was already paid pays nothing more (R6.4).
    assert pool_for_edition(500, 1_000, planned=4, settled=2) == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((-1, 0, 1, 0), "fund"),
        ((1, -1, 1, 0), "allocated"),
        ((1, 0, 0, 0), "E"),
        ((1, 0, 1, -1), "k"),
    ],
)
def test_invalid_pool_inputs_are_rejected(args: tuple[int, int, int, int], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        pool_for_edition(*args)


@given(
    fund=st.integers(0, 10**10),
    planned=st.integers(1, 60),
    spent_share=st.fractions(0, 1),
    settled=st.integers(0, 70),
)
def test_pool_never_exceeds_what_remains(
    fund: int, planned: int, spent_share: Fraction, settled: int
) -> None:
    allocated = int(fund * spent_share)
    pool = pool_for_edition(fund, allocated, planned, settled)
    assert 0 <= pool <= fund - allocated
    if settled >= planned - 1:
        assert pool == fund - allocated
