"""Splitting a pool to the fen (R6.3): largest remainder (Hamilton) in proportion to ``s``."""

from __future__ import annotations

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
    total = sum(scores.values(), Fraction(0))
    if pool == 0 or total == 0:
        return {}

    floors: dict[str, int] = {}
    remainders: dict[str, Fraction] = {}
    for unit_id, score in scores.items():
        quota = Fraction(pool) * score / total
        floors[unit_id] = quota.numerator // quota.denominator
        remainders[unit_id] = quota - floors[unit_id]

    # Fewer fen are left over than there are non-zero remainders, so a unit whose quota is
    # whole (a zero-score unit included) never gets an extra fen.
    left_over = pool - sum(floors.values())
    order = sorted(scores, key=lambda u: (-remainders[u], -scores[u], u))
    for unit_id in order[:left_over]:
        floors[unit_id] += 1
    return {unit_id: floors[unit_id] for unit_id in sorted(floors) if floors[unit_id] > 0}
