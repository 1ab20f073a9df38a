"""R6.1 / R7: money is integer fen; yuan strings are exact and for display only."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.incentives.domain.money import fen_to_yuan


@pytest.mark.parametrize(
    ("fen", "yuan"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (100, "1.00"),
        (123456, "1234.56"),
        (800_000_000, "8000000.00"),
        (-5, "-0.05"),
        (-123456, "-1234.56"),
    ],
)
def test_fen_renders_as_yuan_with_two_decimals(fen: int, yuan: str) -> None:
    assert fen_to_yuan(fen) == yuan


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_yuan_string_round_trips_exactly_to_fen(fen: int) -> None:
    text = fen_to_yuan(fen)
    whole, _, cents = text.lstrip("-").partition(".")
    back = int(whole) * 100 + int(cents)
    assert (-back if text.startswith("-") else back) == fen
    assert len(cents) == 2


def test_a_bool_is_not_money() -> None:
    with pytest.raises(TypeError):
        fen_to_yuan(True)
