"""Deadlines (R2.2): when an issue must be rectified by."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from services.issues.domain.errors import InvalidDeadline
from services.issues.domain.instants import require_aware

__all__ = ["DEFAULT_TIME_LIMIT", "deadline_for"]

# R2.2: the default time limit when a category has none configured.
DEFAULT_TIME_LIMIT = timedelta(days=3)


def deadline_for(
    found_at: datetime,
    category: str,
    explicit: datetime | None,
    limits: Mapping[str, timedelta],
    default: timedelta = DEFAULT_TIME_LIMIT,
) -> datetime:
    """R2.2: the explicit deadline if given, else ``found_at`` + the category's time limit.

    An explicit deadline before ``found_at`` is invalid; one equal to it is allowed (the rule
    only forbids "before"). A negative configured limit is a settings error.
    """
    require_aware(found_at, "found_at")
    if explicit is not None:
        require_aware(explicit, "deadline")
        if explicit < found_at:
            raise InvalidDeadline(f"deadline {explicit.isoformat()} is before found_at")
        return explicit
    limit = limits.get(category, default)
    if limit < timedelta(0):
        raise ValueError(f"time limit for {category!r} is negative: {limit}")
    return found_at + limit
