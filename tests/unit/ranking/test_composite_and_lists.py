from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.ranking.domain.composite import composite_score, rate_component
from services.ranking.domain.lists import bottom_ranks, competition_ranks, red_and_black, standing
from services.ranking.domain.rules import RankingRules

RULES = RankingRules(version="v1")
F = Fraction


def test_composite_weighs_rate_and_score_equally_by_default() -> None:
    # R4.3: s = 100 (w_r rate + w_a a/100) / (w_r + w_a), exactly.
    assert composite_score(F(9, 10), F(80), RULES) == 85
    assert composite_score(F(3107, 3440), F(9031, 100), RULES) == (
        100 * (F(3107, 3440) + F(9031, 10000)) / 2
    )


def test_missing_component_leaves_the_other_alone() -> None:
    # R4.3: a missing component is left out; neither means not ranked.
    assert composite_score(F(9, 10), None, RULES) == 90
    assert composite_score(None, F(77), RULES) == 77
    assert composite_score(None, None, RULES) is None


def test_zero_weight_component_counts_as_missing() -> None:
    # R4.3 with w_r = 0: a rate alone cannot rank a unit (it would be 0/0).
    rules = RankingRules(version="x", w_r=F(0), w_a=F(1))
    assert composite_score(F(9, 10), None, rules) is None
    assert composite_score(F(9, 10), F(60), rules) == 60


def test_too_few_issues_means_no_rate_component() -> None:
    # R4.8: reported below min_issues has no rate component.
    rules = RankingRules(version="x", min_issues=3)
    assert rate_component(F(1, 2), 2, rules) is None
    assert rate_component(F(1, 3), 3, rules) == F(1, 3)


def test_competition_ranking_shares_ranks_and_skips() -> None:
    # R4.4: 1, 2, 2, 4; bottom ranks counted the other way.
    scores = {"a": F(90), "b": F(80), "c": F(80), "d": F(70)}
    assert competition_ranks(scores) == {"a": 1, "b": 2, "c": 2, "d": 4}
    assert bottom_ranks(scores) == {"d": 1, "b": 2, "c": 2, "a": 4}


def test_tie_for_fifth_lists_every_tied_department() -> None:
    # R4.5: ties at the boundary are all listed.
    scores = {f"d{i}": F(100 - i) for i in range(1, 5)} | {"x": F(50), "y": F(50), "z": F(50)}
    scores |= {f"low{i}": F(i) for i in range(1, 6)}
    lists = red_and_black(scores, 5, 3, None)
    assert lists.red == {"d1", "d2", "d3", "d4", "x", "y", "z"}
    assert lists.black == {"low1", "low2", "low3"}


def test_tie_at_the_bottom_lists_every_tied_unit() -> None:
    # R4.4/R4.5: bottom rank <= N with ties sharing.
    scores = {"a": F(90), "b": F(40), "c": F(40)}
    assert red_and_black(scores, 1, 1, None).black == {"b", "c"}


def test_unit_on_both_lists_is_on_neither_and_nobody_refills() -> None:
    # R4.6: a lone district would be top and bottom; it is on neither list.
    lists = red_and_black({"dist": F(88)}, 1, 1, None)
    assert (lists.red, lists.black) == (frozenset(), frozenset())
    # All tied: every unit would be on both; the lists stay empty, not refilled.
    tied = red_and_black({"a": F(70), "b": F(70), "c": F(70)}, 1, 1, None)
    assert (tied.red, tied.black) == (frozenset(), frozenset())


def test_exemption_is_applied_before_the_both_lists_rule() -> None:
    # R4.7 then R4.6: the exempt lone district is no longer black, so it stays red.
    assert red_and_black({"dist": F(95)}, 1, 1, F(90)).red == {"dist"}
    lists = red_and_black({"a": F(95), "b": F(92)}, 1, 1, F(90))
    assert lists.red == {"a"}
    assert lists.black == frozenset()


def test_exemption_threshold_is_inclusive() -> None:
    # R4.7: s >= black_exempt_at is never black-listed.
    assert red_and_black({"a": F(99), "b": F(90)}, 1, 1, F(90)).black == frozenset()
    assert red_and_black({"a": F(99), "b": F(89)}, 1, 1, F(90)).black == {"b"}


def test_zero_sized_lists_are_empty() -> None:
    assert red_and_black({"a": F(1), "b": F(2)}, 0, 0, None).red == frozenset()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"w_r": F(-1)},
        {"w_r": F(0), "w_a": F(0)},
        {"min_issues": 0},
        {"version": ""},
    ],
)
def test_invalid_rules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        RankingRules(**{"version": "v1", **kwargs})  # type: ignore[arg-type]


def _composite_by_the_formula(
    rate: Fraction | None, score: Fraction | None, rules: RankingRules
) -> Fraction | None:
    # R4.3 exactly as written, term by term.
    terms = []
    if rate is not None and rules.w_r > 0:
        terms.append((rules.w_r, rate))
    if score is not None and rules.w_a > 0:
        terms.append((rules.w_a, score / 100))
    if not terms:
        return None
    return 100 * sum((w * v for w, v in terms), F(0)) / sum((w for w, _ in terms), F(0))


_weights = st.fractions(min_value=0, max_value=10, max_denominator=50)


@given(
    rate=st.none() | st.fractions(min_value=0, max_value=1, max_denominator=5000),
    score=st.none() | st.fractions(min_value=0, max_value=100, max_denominator=10_000),
    w_r=_weights,
    w_a=_weights,
)
def test_composite_equals_the_r4_3_formula_for_any_weights_and_components(
    rate: Fraction | None, score: Fraction | None, w_r: Fraction, w_a: Fraction
) -> None:
    # R4.3: the integer rearrangement gives exactly the formula's value (or None).
    assume(w_r > 0 or w_a > 0)
    rules = RankingRules(version="x", w_r=w_r, w_a=w_a)
    assert composite_score(rate, score, rules) == _composite_by_the_formula(rate, score, rules)


@given(
    st.dictionaries(
        st.text("abcdefgh", min_size=1, max_size=3),
        # Near-equal values too: 1/3 and 33333333333333333/100000000000000000 share a float.
        st.sampled_from([F(1, 3), F(33333333333333333, 10**17), F(2, 6) + F(1, 10**30)])
        | st.fractions(min_value=0, max_value=100, max_denominator=7),
        max_size=30,
    )
)
def test_standing_is_competition_ranking_by_definition(scores: dict[str, Fraction]) -> None:
    # R4.4: rank = 1 + how many score strictly higher; bottom rank = 1 + how many strictly
    # lower; order by rank, ties by unit id.
    ranks = standing(scores)
    assert ranks.top == {u: 1 + sum(t > s for t in scores.values()) for u, s in scores.items()}
    assert ranks.bottom == {u: 1 + sum(t < s for t in scores.values()) for u, s in scores.items()}
    assert ranks.order == sorted(scores, key=lambda u: (ranks.top[u], u))
