"""Per-robot rate limits (R5 delivery): WeCom and DingTalk robots take 20 messages a minute.

The limiter is a pure function of the channel's send log and ``now``, so it can be tested on a
simulated clock and shared by replicas through the log in the database. Nothing is dropped:
a notice that may not go now is given the instant at which it may.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["RateLimit", "next_send_at", "pace"]


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` sends in any window of ``window`` (half-open: ``[t, t + window)``)."""

    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= timedelta(0):
            raise ValueError("a rate limit needs limit >= 1 and a positive window")


def next_send_at(sent: Iterable[datetime], now: datetime, rule: RateLimit) -> datetime:
    """The earliest instant at or after ``now`` at which one more send keeps every window
    within ``rule``.

    Why this suffices: if every send finds fewer than ``limit`` sends in the ``window`` before
    it (``(s - window, s]``), then any window's last send sees all the others of that window,
    so no window holds more than ``limit``.
    """
    log = sorted(sent)
    if len(log) < rule.limit:
        return now
    return max(now, log[-rule.limit] + rule.window)


def pace(sent: Iterable[datetime], count: int, now: datetime, rule: RateLimit) -> list[datetime]:
    """The send instants of ``count`` queued notices, in order, each as early as allowed."""
    log = sorted(sent)
    times: list[datetime] = []
    for _ in range(count):
        at = next_send_at(log, now, rule)
        log.append(at)
        times.append(at)
    return times
