"""The campaign calendar (R4.1, R6.2): which year an edition belongs to, how many are planned."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CAMPAIGN_TZ = ZoneInfo("Asia/Shanghai")
MONDAY = 0


def campaign_year(cutoff: datetime, tz: ZoneInfo = CAMPAIGN_TZ) -> int:
    """R4.1: an edition belongs to the calendar year (Asia/Shanghai) of its cutoff instant."""
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be timezone-aware")
    return cutoff.astimezone(tz).year


def planned_editions(year: int, tz: ZoneInfo = CAMPAIGN_TZ, weekday: int = MONDAY) -> int:
    """R6.2 default ``E``: scheduled weekly cutoffs (``weekday`` 00:00 in ``tz``) within ``year``.

    Weekly Mondays give 52 or 53 (2018 starts on a Monday: 53). Settings may override E per year.
    """
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {weekday}")
    first = date(year, 1, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    count = 0
    while day.year == year:
        # Round-trip through UTC so a midnight that a DST gap skips still counts as the instant
        # the clock actually shows; R4.1 assigns the edition by that instant's local year.
        instant = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        if campaign_year(instant, tz) == year:
            count += 1
        day += timedelta(days=7)
    return count
