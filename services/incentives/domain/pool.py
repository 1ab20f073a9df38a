"""The pool of one edition (R6.2)."""

from __future__ import annotations


def remaining_fund(fund: int, allocated: int) -> int:
    """R6.2 ``remaining``: the year's fund minus everything allocated so far, never below 0.

    It can only go below 0 if the office lowers a year's fund after money was paid; the ledger
    is append-only (R6.4), so the shortfall is not clawed back, and nothing more is paid.
    """
    return max(0, fund - allocated)


def pool_for_edition(fund: int, allocated_so_far: int, planned: int, settled: int) -> int:
    """R6.2: ``floor(remaining / max(1, E - k))`` fen for the first revision of an edition.

    ``planned`` is E, ``settled`` is k (editions of the year already settled, including those
    whose pool was not spent). From ``k >= E - 1`` on, an edition takes all that remains.
    """
    if fund < 0:
        raise ValueError(f"fund must be >= 0 fen, got {fund}")
    if allocated_so_far < 0:
        raise ValueError(f"allocated_so_far must be >= 0 fen, got {allocated_so_far}")
    if planned < 1:
        raise ValueError(f"planned editions (E) must be >= 1, got {planned}")
    if settled < 0:
        raise ValueError(f"settled editions (k) must be >= 0, got {settled}")
    return remaining_fund(fund, allocated_so_far) // max(1, planned - settled)
