from decimal import Decimal
from fractions import Fraction

import pytest

from services.ranking.domain.rules import ListSizes, RankingRules
from services.ranking.domain.units import Category


def test_defaults_are_the_v1_rules() -> None:
    # R4.3, R4.5, R4.7, R4.8 defaults.
    rules = RankingRules(version="v1")
    assert (rules.w_r, rules.w_a) == (Fraction(1, 2), Fraction(1, 2))
    assert rules.red.for_category(Category.DEPARTMENT) == 5
    assert rules.black.for_category(Category.DEPARTMENT) == 3
    assert rules.red.for_category(Category.TOWN) == rules.black.for_category(Category.DISTRICT) == 1
    assert (rules.black_exempt_at, rules.min_issues) == (None, 1)


def test_rules_round_trip_through_their_settings_form() -> None:
    # R7: every rule version stays loadable.
    rules = RankingRules(
        version="v2",
        w_r=Fraction(2, 3),
        w_a=Fraction(1, 3),
        red=ListSizes(department=4, district=1, town=2),
        black_exempt_at=Fraction(90),
        min_issues=3,
    )
    assert RankingRules.from_mapping(rules.as_dict()) == rules


def test_settings_accept_exact_numbers_and_partial_list_sizes() -> None:
    rules = RankingRules.from_mapping(
        {"version": "v3", "w_r": "0.6", "w_a": Decimal("0.4"), "black": {"department": 2}}
    )
    assert (rules.w_r, rules.w_a) == (Fraction(3, 5), Fraction(2, 5))
    assert rules.black == ListSizes(department=2, district=1, town=1)


def test_settings_refuse_floats_unknown_keys_and_negative_sizes() -> None:
    with pytest.raises(TypeError):
        RankingRules.from_mapping({"version": "v", "w_r": 0.5})
    with pytest.raises(ValueError, match="unknown"):
        RankingRules.from_mapping({"version": "v", "wr": "1/2"})
    with pytest.raises(ValueError, match="list size"):
        RankingRules.from_mapping({"version": "v", "red": {"town": -1}})
