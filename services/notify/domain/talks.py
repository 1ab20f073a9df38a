"""Talks (约谈) ordered by the escalation ladder (R5.3) and what the office records of them.

A talk is ``ordered`` by a black listing, ``scheduled`` by the office for a date, then ``held``
with its minutes. A revision that takes the unit off the black list ``cancelled``s it, unless
it has already been held (a held talk is history and stays on record).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

__all__ = ["CANCELLABLE", "Talk", "TalkStatus", "TalkTransitionError", "hold", "schedule"]


class TalkStatus(StrEnum):
    ORDERED = "ordered"
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


# R5.3: a correction cancels the talk it had ordered while it has not been held.
CANCELLABLE = frozenset({TalkStatus.ORDERED, TalkStatus.SCHEDULED})


class TalkTransitionError(ValueError):
    """The office asked for a change the talk's status does not allow."""


@dataclass(frozen=True, kw_only=True)
class Talk:
    """What the office records of one talk."""

    status: TalkStatus
    scheduled_for: date | None = None
    held_on: date | None = None
    minutes: str | None = None


def schedule(talk: Talk, on: date) -> Talk:
    """R5.3: ordered → scheduled (a scheduled talk may be moved to another date)."""
    if talk.status not in (TalkStatus.ORDERED, TalkStatus.SCHEDULED):
        raise TalkTransitionError(f"a {talk.status} talk cannot be scheduled")
    return replace(talk, status=TalkStatus.SCHEDULED, scheduled_for=on)


def hold(talk: Talk, on: date, minutes: str) -> Talk:
    """R5.3: scheduled → held, on a date not before the scheduled one, with its minutes."""
    if talk.status is not TalkStatus.SCHEDULED:
        raise TalkTransitionError(f"only a scheduled talk can be held, this one is {talk.status}")
    assert talk.scheduled_for is not None
    if on < talk.scheduled_for:
        raise TalkTransitionError("a talk cannot be held before the date it was scheduled for")
    if not minutes.strip():
        raise TalkTransitionError("a held talk needs its minutes")
    return replace(talk, status=TalkStatus.HELD, held_on=on, minutes=minutes.strip())
