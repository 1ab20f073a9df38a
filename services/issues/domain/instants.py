"""Instants: every time the domain sees is timezone-aware, and the campaign's day is Shanghai's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["CAMPAIGN_TZ", "require_aware"]

# R4.1/R6.1: campaign years and days are counted in Asia/Shanghai.
CAMPAIGN_TZ = ZoneInfo("Asia/Shanghai")


def require_aware(value: datetime, name: str) -> datetime:
    """Refuse naive datetimes: a naive instant compares wrongly against an aware deadline."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value
