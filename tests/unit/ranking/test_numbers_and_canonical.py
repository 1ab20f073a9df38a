import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ranking.domain.canonical import canonical_json, canonical_members, joined_members
from services.ranking.domain.numbers import (
    as_fraction,
    display,
    display_percent,
    exact,
    exact_ratio,
    parse_exact,
    percent_of,
)
from services.ranking.domain.payload import members_digest, payload_digest


def test_seed_campaign_rate_is_exact_and_shown_as_90_32_percent() -> None:
    # R3.4 / R7: the report's 3107 of 3440 = 90.3197...%
    rate = Fraction(3107, 3440)
    assert exact(rate) == "3107/3440"
    assert display_percent(rate) == "90.32"


def test_exact_is_always_a_reduced_n_over_d() -> None:
    # R7: one spelling per number, integers included.
    assert exact(Fraction(9031, 100)) == "9031/100"
    assert exact(Fraction(50, 100)) == "1/2"
    assert exact(Fraction(1)) == "1/1"
    assert exact(Fraction(0)) == "0/1"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Fraction(9031, 100), "90.31"),
        (Fraction(1, 200), "0.01"),  # exactly half a hundredth rounds up
        (Fraction(1, 201), "0.00"),
        (Fraction(12345, 1000), "12.35"),  # banker's rounding would give 12.34
        (Fraction(100), "100.00"),
        (Fraction(-1, 200), "-0.01"),
        (Fraction(-1, 1000), "0.00"),  # never "-0.00"
    ],
)
def test_display_rounds_half_up_to_two_places(value: Fraction, shown: str) -> None:
    # R7 / R4.3: rounding is for display only, half up.
    assert display(value) == shown


@given(st.fractions(min_value=-1000, max_value=1000))
def test_display_matches_decimal_half_up(value: Fraction) -> None:
    # R7: cross-check the integer rounding against Decimal's ROUND_HALF_UP on exact quotients.
    from decimal import ROUND_HALF_UP, localcontext

    with localcontext() as ctx:
        ctx.prec = 200
        expected = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    text = str(expected)
    assert display(value) == ("0.00" if text == "-0.00" else text)


@given(st.fractions())
def test_exact_round_trips_through_parse_exact(value: Fraction) -> None:
    assert parse_exact(exact(value)) == value


def test_parse_exact_refuses_unreduced_or_malformed_strings() -> None:
    for text in ["2/4", "1", "1/0", "0.5", " 1/2", "1/-2"]:
        with pytest.raises(ValueError, match="fraction string"):
            parse_exact(text)


def test_floats_are_refused_as_exact_inputs() -> None:
    # R4.3: compute exactly; a float has already lost exactness.
    with pytest.raises(TypeError):
        as_fraction(0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        as_fraction(True)
    assert as_fraction(Decimal("90.31")) == Fraction(9031, 100)
    assert as_fraction("1/3") == Fraction(1, 3)


def test_canonical_json_sorts_keys_without_white_space_and_keeps_chinese() -> None:
    # R7: canonical JSON, UTF-8, names as themselves.
    assert canonical_json({"b": [1, None, True], "a": "蓬江区"}) == (
        '{"a":"蓬江区","b":[1,null,true]}'.encode()
    )


@pytest.mark.parametrize(
    "bad", [{"x": 1.5}, [0.0], {1: "a"}, {"x": Fraction(1, 2)}, {"x": b"bytes"}]
)
def test_canonical_json_refuses_floats_and_non_json_values(bad: object) -> None:
    # R7: exact values must travel as strings, never floats.
    with pytest.raises(TypeError):
        canonical_json(bad)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(_json_values)
def test_canonical_json_writes_exactly_the_bytes_of_the_json_module_definition(
    value: object,
) -> None:
    # R7: editions are compared byte for byte with what was published, so the fast writer must
    # give the bytes of the definition for every value: escapes, non-BMP keys, big integers.
    reference = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        expected = reference.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8, refused by both
        with pytest.raises((TypeError, ValueError)):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@given(st.dictionaries(st.text(), _json_values, max_size=6))
def test_an_object_joined_from_its_serialised_members_is_its_canonical_json(
    value: dict[str, object],
) -> None:
    # R7: an edition's content is serialised once, for its digest (R4.1) and inside the
    # published message; the bytes must be those of serialising the message whole.
    try:
        expected = canonical_json(value)
    except (TypeError, ValueError):  # a lone surrogate: refused either way
        with pytest.raises((TypeError, ValueError)):
            joined_members(canonical_members(value))
        return
    members = canonical_members(value)
    assert joined_members(members) == expected
    assert members_digest(members) == payload_digest(value)


def test_serialised_members_are_checked_as_the_whole_object_is() -> None:
    with pytest.raises(TypeError):
        canonical_members({"rows": [{"rate": 0.9}]})
    with pytest.raises(TypeError):
        canonical_members({1: "a"})  # type: ignore[dict-item]


def test_canonical_json_writes_integers_beyond_64_bits_as_json_does() -> None:
    assert canonical_json({"n": 2**70, "m": -(2**64)}) == (
        b'{"m":-18446744073709551616,"n":1180591620717411303424}'
    )


@given(part=st.integers(min_value=0, max_value=10**6), whole=st.integers(1, 10**6))
def test_ratio_strings_from_counts_equal_those_of_the_fraction(part: int, whole: int) -> None:
    # R3.3/R7: the rate written from the counts is the reduced fraction and its percentage.
    rate = Fraction(part, whole)
    assert (exact_ratio(part, whole), percent_of(part, whole)) == (
        exact(rate),
        display_percent(rate),
    )
