"""Instants and calendar questions about them (R1.3, R4.1, R4.2).

Every cutoff is an aware instant; calendar questions (which month, which year) are asked in the
campaign's zone, which callers pass in as a `ZoneInfo` so that nothing here reads configuration.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["Month", "edition_year", "month_of", "require_aware"]

Month = tuple[int, int]
"""A calendar month as ``(year, month)``; tuples order chronologically."""


def require_aware(instant: datetime, what: str) -> datetime:
    """Refuse naive datetimes: a naive time has no single instant, so "at or before T" (R3)
    would depend on the machine's zone."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {instant!r}")
    return instant


def month_of(instant: datetime, tz: ZoneInfo) -> Month:
    """R4.2: the month of T, read on the campaign's calendar (Asia/Shanghai)."""
    local = require_aware(instant, "instant").astimezone(tz)
    return (local.year, local.month)


def edition_year(cutoff: datetime, tz: ZoneInfo) -> int:
    """R4.1: an edition belongs to the calendar year (Asia/Shanghai) of its cutoff instant.

    Monday 00:00 on 1 January local time is 31 December in UTC; the local year is the one that
    counts, which is why the zone is a parameter.
    """
    return require_aware(cutoff, "cutoff").astimezone(tz).year
