"""Instants: every time the domain sees is timezone-aware, and the campaign's day is Shanghai's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.issues.domain.errors import InvalidCommand

__all__ = ["CAMPAIGN_TZ", "EARLIEST_YEAR", "LATEST_YEAR", "require_aware", "require_plausible"]

# R4.1/R6.1: campaign years and days are counted in Asia/Shanghai.
CAMPAIGN_TZ = ZoneInfo("Asia/Shanghai")

# Instants a person enters (found_at, deadlines) must lie in these years: outside them they are
# typos, and arithmetic on them (found_at + time limit) could overflow.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2200


def require_aware(value: datetime, name: str) -> datetime:
    """Refuse naive datetimes: a naive instant compares wrongly against an aware deadline."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value


def require_plausible(value: datetime, name: str) -> datetime:
    """An aware instant in the years ``EARLIEST_YEAR``-``LATEST_YEAR``, else `InvalidCommand`."""
    require_aware(value, name)
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InvalidCommand(
            f"{name} {value.isoformat()} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR}"
        )
    return value
