"""Re-inspection sampling (回头看抽查, R2.5): a seeded draw that anyone can recompute.

Each issue gets a ticket ``SHA-256(seed + "\\n" + issue_id)``; the issues with the smallest
tickets are drawn. Unlike `random.Random.sample`, whose algorithm is a CPython detail, this can be
recomputed by hand in any language, and it does not depend on the order the ids arrive in.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from uuid import UUID

from services.issues.domain.instants import CAMPAIGN_TZ

__all__ = ["DEFAULT_SHARE", "draw", "draw_size", "rectified_window", "ticket"]

# R2.5: the configurable default share.
DEFAULT_SHARE = Fraction(3, 10)


def draw_size(population: int, share: Fraction = DEFAULT_SHARE) -> int:
    """R2.5: how many to draw: ``ceil(share × population)``.

    Ceiling, not rounding, so that any day with at least one rectified issue has at least one
    re-inspection (30% of 1 rounds to 0) and the drawn share is never below the configured one.
    """
    if not 0 <= share <= 1:
        raise ValueError(f"share must be within [0, 1], got {share}")
    return math.ceil(share * population)


def ticket(seed: str, issue_id: UUID) -> str:
    """The hex SHA-256 ticket of one issue in the draw seeded with ``seed``."""
    return hashlib.sha256(f"{seed}\n{issue_id}".encode()).hexdigest()


def draw(
    issue_ids_rectified_yesterday: Iterable[UUID],
    share: Fraction = DEFAULT_SHARE,
    *,
    seed: str,
) -> list[UUID]:
    """R2.5: draw ``draw_size`` of the distinct ids, reproducibly for a given ``seed``.

    Returns the drawn ids sorted ascending. The seed should name the day (e.g. the campaign's
    secret salt plus ``"2018-06-04"``) so each day's draw differs but can be recomputed.
    Issues the office adds by hand are simply added to the result by the caller.
    """
    population = sorted(set(issue_ids_rectified_yesterday))
    size = draw_size(len(population), share)
    by_ticket = sorted(population, key=lambda issue_id: (ticket(seed, issue_id), issue_id))
    return sorted(by_ticket[:size])


def rectified_window(draw_day: date) -> tuple[datetime, datetime]:
    """R2.5: "the day before" ``draw_day`` as the half-open instant range ``[start, end)`` in
    Asia/Shanghai: issues whose rectification occurred in it make up the population."""
    end = datetime.combine(draw_day, time(0), tzinfo=CAMPAIGN_TZ)
    start = datetime.combine(draw_day - timedelta(days=1), time(0), tzinfo=CAMPAIGN_TZ)
    return start, end
