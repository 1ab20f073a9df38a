"""Splitting a pool to the fen (R6.3): largest remainder (Hamilton) in proportion to ``s``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction


def apportion(pool: int, scores: Mapping[str, Fraction]) -> dict[str, int]:
    """R6.3: split ``pool`` fen over units in proportion to their composite score ``s``.

    Each unit gets the floor of its exact quota ``pool * s / sum(s)``; the fen left over go one
    each to the largest remainders, ties broken by higher ``s``, then ``unit_id`` ascending.
    The result holds only units with a positive share (sorted by ``unit_id``) and sums to
    ``pool`` exactly; it is empty when the pool is 0, there are no units, or all score 0
    (the pool then stays in ``remaining``).
    """
    if pool < 0:
        raise ValueError(f"pool must be >= 0 fen, got {pool}")
    for unit_id, score in scores.items():
        if score < 0:
            raise ValueError(f"score of {unit_id!r} must be >= 0, got {score}")
    if pool == 0 or not scores:
        return {}

    # Exact and fast: over a common denominator every score is an integer weight, so each
    # quota is pool * w / W and its remainder an integer over the same W. Fraction arithmetic
    # gives the same result ~15x slower at 10,000 units (bench/incentives_allocation.py).
    common = math.lcm(*{score.denominator for score in scores.values()})
    weights = {u: s.numerator * (common // s.denominator) for u, s in scores.items()}
    total = sum(weights.values())
    if total == 0:
        return {}

    floors: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for unit_id, weight in weights.items():
        floors[unit_id], remainders[unit_id] = divmod(pool * weight, total)

    # Fewer fen are left over than there are non-zero remainders, so a unit whose quota is
    # whole (a zero-score unit included) never gets an extra fen.
    left_over = pool - sum(floors.values())
    order = sorted(weights, key=lambda u: (-remainders[u], -weights[u], u))
    for unit_id in order[:left_over]:
        floors[unit_id] += 1
    return {unit_id: floors[unit_id] for unit_id in sorted(floors) if floors[unit_id] > 0}
