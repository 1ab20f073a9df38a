"""The composite score ``s(u)`` (R4.3, R4.8)."""

from __future__ import annotations

from fractions import Fraction

from services.ranking.domain.rules import RankingRules

__all__ = ["composite_score", "rate_component"]


def rate_component(rate: Fraction | None, reported: int, rules: RankingRules) -> Fraction | None:
    """R4.8: a unit with ``reported < min_issues`` has no rate component (its rate, if any, is
    too thin to rank on); R4.3: nor has one whose rate is undefined."""
    if rate is None or reported < rules.min_issues:
        return None
    return rate


def composite_score(
    rate: Fraction | None, score: Fraction | None, rules: RankingRules
) -> Fraction | None:
    """R4.3: ``s = 100 · (w_r · rate + w_a · a/100) / (w_r + w_a)``, exactly.

    ``rate`` is the rate component (a fraction in [0, 1], already filtered by `rate_component`)
    and ``score`` the assessment score ``a`` in [0, 100]. A missing component is left out and the
    other's weight is used alone. A component whose weight is 0 is treated as missing too: with
    ``w_r = 0`` a unit with only a rate would otherwise give 0/0, and a weight of 0 says the
    component should not decide anything. No component left → None (the unit is not ranked).
    """
    terms: list[tuple[Fraction, Fraction]] = []
    if rate is not None and rules.w_r > 0:
        terms.append((rules.w_r, rate))
    if score is not None and rules.w_a > 0:
        terms.append((rules.w_a, score / 100))
    if not terms:
        return None
    total_weight = sum((weight for weight, _ in terms), Fraction(0))
    weighted = sum((weight * value for weight, value in terms), Fraction(0))
    return 100 * weighted / total_weight
