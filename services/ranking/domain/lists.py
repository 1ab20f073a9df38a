"""Ranks and the red and black lists (红黑榜, R4.4-R4.7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Lists", "bottom_ranks", "competition_ranks", "red_and_black"]


def competition_ranks(scores: Mapping[str, Fraction]) -> dict[str, int]:
    """R4.4: rank by ``s`` descending, equal scores sharing a rank (1, 2, 2, 4).

    A unit's rank is 1 + the number of units scoring strictly higher, which is competition
    ranking by definition and needs no tie-breaker, so the order units are given in is irrelevant.
    """
    ordered = sorted(scores.values(), reverse=True)
    return {unit_id: 1 + _count_before(ordered, s, higher=True) for unit_id, s in scores.items()}


def bottom_ranks(scores: Mapping[str, Fraction]) -> dict[str, int]:
    """R4.4: rank counted from the bottom (``s`` ascending, ties sharing), for "bottom N"."""
    ordered = sorted(scores.values())
    return {unit_id: 1 + _count_before(ordered, s, higher=False) for unit_id, s in scores.items()}


def _count_before(ordered: list[Fraction], s: Fraction, *, higher: bool) -> int:
    # Units strictly better (or strictly worse) than s come first in `ordered`.
    count = 0
    for other in ordered:
        if (other > s) if higher else (other < s):
            count += 1
        else:
            break
    return count


@dataclass(frozen=True)
class Lists:
    """The red and black lists of one category, as sets of unit ids."""

    red: frozenset[str]
    black: frozenset[str]


def red_and_black(
    scores: Mapping[str, Fraction],
    red_size: int,
    black_size: int,
    black_exempt_at: Fraction | None,
) -> Lists:
    """R4.5-R4.7 for one category's ranked units (``scores`` maps unit id to ``s``).

    - R4.5: red = rank <= ``red_size``; black = bottom rank <= ``black_size``. Because ranks are
      shared by ties, every unit tied at a boundary is listed (a tie for 5th lists all of them).
    - R4.7 first: with an exemption threshold, a unit with ``s >= black_exempt_at`` is never black.
    - R4.6 then: a unit on both lists (tiny categories) is on neither, and nobody is moved up to
      fill the gap.
    """
    top = competition_ranks(scores)
    bottom = bottom_ranks(scores)
    red = {u for u, rank in top.items() if rank <= red_size}
    black = {u for u, rank in bottom.items() if rank <= black_size}
    if black_exempt_at is not None:
        black = {u for u in black if scores[u] < black_exempt_at}
    both = red & black
    return Lists(red=frozenset(red - both), black=frozenset(black - both))
