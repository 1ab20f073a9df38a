"""Instants typed by people: a date or date-time, without offset meaning Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cli.config import TIMEZONE
from cli.errors import CliError

TZ = ZoneInfo(TIMEZONE)


def parse_instant(text: str, option: str = "") -> datetime:
    """``2018-05-07``, ``2018-05-07 09:30`` or RFC 3339 → an aware datetime."""
    try:
        if len(text) == 10:
            at = datetime.combine(date.fromisoformat(text), time(0))
        else:
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        where = f"{option}: " if option else ""
        raise CliError(
            f"{where}{text!r} is not a date or time (e.g. 2018-05-07 or 2018-05-07T09:30+08:00)"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=TZ)


def latest_monday(now: datetime) -> datetime:
    """R4.1: the latest Monday 00:00 Asia/Shanghai at or before ``now``."""
    local = now.astimezone(TZ)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0), tzinfo=TZ)
