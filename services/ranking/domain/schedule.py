"""The weekly publication schedule (R4.1).

Scheduled editions have their cutoff at a fixed local weekday and hour (default Monday 00:00
Asia/Shanghai) and are published once a grace delay has passed, so that late events still land in
the edition they belong to.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.ranking.domain.instants import require_aware

__all__ = ["latest_scheduled_cutoff", "scheduled_cutoffs"]


def _check_slot(weekday: int, hour: int) -> None:
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {weekday}")
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0..23, got {hour}")


def _at(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def scheduled_cutoffs(
    year: int, tz: ZoneInfo, weekday: int = 0, hour: int = 0
) -> tuple[datetime, ...]:
    """R4.1: every scheduled cutoff whose local date falls in ``year``, in order.

    Also gives the default number of planned editions of a year (R6.2: 2018 has 53 Mondays).
    The instants are aware, in ``tz``.
    """
    _check_slot(weekday, hour)
    first = date(year, 1, 1)
    first += timedelta(days=(weekday - first.weekday()) % 7)
    cutoffs: list[datetime] = []
    day = first
    while day.year == year:
        cutoffs.append(_at(day, hour, tz))
        day += timedelta(weeks=1)
    return tuple(cutoffs)


def latest_scheduled_cutoff(
    now: datetime, grace: timedelta, tz: ZoneInfo, weekday: int = 0, hour: int = 0
) -> datetime:
    """R4.1: the latest scheduled cutoff ``c`` whose grace delay is over (``c + grace <= now``).

    The scheduler calls this with the clock's ``now``; publishing the same cutoff again is
    harmless (same content, no new revision), so the caller need not remember what it did.
    """
    _check_slot(weekday, hour)
    if grace < timedelta(0):
        raise ValueError(f"grace must not be negative, got {grace}")
    horizon = (require_aware(now, "now") - grace).astimezone(tz)
    day = horizon.date() - timedelta(days=(horizon.weekday() - weekday) % 7)
    candidate = _at(day, hour, tz)
    if candidate > horizon:
        # Same weekday as the horizon but the hour has not come yet: last week's slot.
        candidate = _at(day - timedelta(weeks=1), hour, tz)
    return candidate
