"""R6.3: the pool is split to the fen by largest remainder (Hamilton) in proportion to s."""

from fractions import Fraction
from random import Random

import apportionment.methods as oracle
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.incentives.domain.apportionment import apportion

UNIT_IDS = st.sampled_from([f"u{i:02d}" for i in range(12)])
# Exact R4.3 scores in [0, 100]: hundredths, plus thirds and sevenths for awkward quotas.
SCORES = st.builds(
    lambda n, d: Fraction(n % (100 * d + 1), d),
    st.integers(0, 70_000),
    st.sampled_from([1, 3, 7, 100]),
)
SCORE_MAPS = st.dictionaries(UNIT_IDS, SCORES, max_size=12)
POOLS = st.integers(min_value=0, max_value=10**9)


def quotas(pool: int, scores: dict[str, Fraction]) -> dict[str, Fraction]:
    total = sum(scores.values(), Fraction(0))
    return {u: Fraction(pool) * s / total for u, s in scores.items()}


def test_pool_is_split_in_proportion_to_scores() -> None:
    assert apportion(100, {"a": Fraction(3), "b": Fraction(1)}) == {"a": 75, "b": 25}


def test_left_over_fen_go_to_the_largest_remainders() -> None:
    # Quotas 10/3 = 3.33, 20/3 = 6.67: the single fen left goes to b.
    assert apportion(10, {"a": Fraction(1), "b": Fraction(2)}) == {"a": 3, "b": 7}


def test_equal_remainders_favour_the_higher_score() -> None:
    # Quotas 1.5 and 4.5 tie on the remainder; the higher s wins the fen.
    assert apportion(6, {"a": Fraction(1), "b": Fraction(3)}) == {"a": 1, "b": 5}


def test_equal_remainders_and_scores_favour_the_smaller_unit_id() -> None:
    assert apportion(5, {"dept-b": Fraction(90), "dept-a": Fraction(90)}) == {
        "dept-a": 3,
        "dept-b": 2,
    }
    assert apportion(1, {"z": Fraction(1), "y": Fraction(1), "x": Fraction(1)}) == {"x": 1}


def test_exact_composite_scores_are_split_exactly() -> None:
    # 9031/100 and 8562/100 (R4.3 exact scores) over the worked-example pool of 15,094,339 fen:
    # quotas 7,748,364.435... and 7,345,974.564..., so the one fen left over goes to d2.
    shares = apportion(15_094_339, {"d1": Fraction(9031, 100), "d2": Fraction(8562, 100)})
    assert shares == {"d1": 7_748_364, "d2": 7_345_975}


@pytest.mark.parametrize(
    "scores",
    [{}, {"a": Fraction(0)}, {"a": Fraction(0), "b": Fraction(0)}],
)
def test_nothing_is_allocated_without_a_positive_score(scores: dict[str, Fraction]) -> None:
    assert apportion(1_000, scores) == {}


def test_a_zero_pool_allocates_nothing() -> None:
    assert apportion(0, {"a": Fraction(50)}) == {}


def test_units_scoring_zero_get_nothing() -> None:
    assert apportion(7, {"a": Fraction(0), "b": Fraction(10)}) == {"b": 7}


def test_negative_pool_or_score_is_rejected() -> None:
    with pytest.raises(ValueError, match="pool"):
        apportion(-1, {"a": Fraction(1)})
    with pytest.raises(ValueError, match="score"):
        apportion(1, {"a": Fraction(-1)})


@given(POOLS, SCORE_MAPS)
def test_shares_sum_to_the_pool_exactly(pool: int, scores: dict[str, Fraction]) -> None:
    shares = apportion(pool, scores)
    if any(s > 0 for s in scores.values()):
        assert sum(shares.values()) == pool
    else:
        assert shares == {}
    assert all(fen > 0 for fen in shares.values())


@given(POOLS, SCORE_MAPS)
def test_every_share_is_within_one_fen_of_its_exact_quota(
    pool: int, scores: dict[str, Fraction]
) -> None:
    assume(any(s > 0 for s in scores.values()))
    shares = apportion(pool, scores)
    for unit_id, quota in quotas(pool, scores).items():
        fen = shares.get(unit_id, 0)
        assert quota - 1 < fen < quota + 1
        # Hamilton: floor of the quota, plus at most one fen.
        assert fen - int(quota) in (0, 1)


@given(POOLS, SCORE_MAPS, st.randoms(use_true_random=False))
def test_split_is_deterministic_and_independent_of_input_order(
    pool: int, scores: dict[str, Fraction], random: Random
) -> None:
    items = list(scores.items())
    random.shuffle(items)
    assert apportion(pool, dict(items)) == apportion(pool, scores)
    assert list(apportion(pool, scores)) == sorted(apportion(pool, scores))


@given(st.integers(min_value=1, max_value=500), SCORE_MAPS)
def test_extra_fen_follow_remainder_then_score_then_unit_id(
    pool: int, scores: dict[str, Fraction]
) -> None:
    # R6.3: whoever got an extra fen ranks before whoever did not, by
    # (larger remainder, higher s, smaller unit_id), among units left with a remainder.
    assume(any(s > 0 for s in scores.values()))
    shares = apportion(pool, scores)
    exact = quotas(pool, scores)

    def key(u: str) -> tuple[Fraction, Fraction, str]:
        return (-(exact[u] - int(exact[u])), -scores[u], u)

    winners = [u for u in exact if shares.get(u, 0) > int(exact[u])]
    losers = [u for u in exact if shares.get(u, 0) == int(exact[u]) and exact[u] != int(exact[u])]
    for w in winners:
        for lo in losers:
            assert key(w) < key(lo)


@given(
    st.integers(min_value=1, max_value=10**8),
    st.dictionaries(UNIT_IDS, st.integers(0, 10_000), min_size=1, max_size=12),
)
def test_split_matches_the_apportionment_package(pool: int, hundredths: dict[str, int]) -> None:
    # Scores in hundredths (as R7 publishes them, e.g. 9031/100) scaled to the integer weights
    # the float-based oracle needs; the bounds keep its float quotas exact enough.
    assume(any(hundredths.values()))
    ids = sorted(hundredths)
    weights = [hundredths[u] for u in ids]
    # The oracle breaks remainder ties by position, not by R6.3: keep to cases without ties.
    remainders = [Fraction(pool * w, sum(weights)) % 1 for w in weights if w > 0]
    assume(len(set(remainders)) == len(remainders))
    expected = oracle.compute("hamilton", weights, pool, parties=ids, verbose=False)
    scores = {u: Fraction(h, 100) for u, h in hundredths.items()}
    assert apportion(pool, scores) == {u: fen for u, fen in zip(ids, expected, strict=True) if fen}
