"""Notices planned for an edition of the red and black lists (通报, R5.2, R5.3).

`notices_for_edition` is pure: given the edition's summary and the escalation state before it,
it returns the notices to send and the new state. Sending, and remembering what was sent, is the
caller's job; every planned notice has a stable `PlannedNotice.key` to make sending idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from services.notify.domain.escalation import (
    EditionKey,
    EscalationState,
    Listing,
    TalkLevel,
    escalate,
)

__all__ = [
    "EditionSummary",
    "NoticeType",
    "OfficeRole",
    "PlannedNotice",
    "RankedUnit",
    "Recipient",
    "notices_for_edition",
]


class NoticeType(StrEnum):
    """R5: every kind of notice the service sends."""

    SUPERVISION = "supervision"  # 督办通知书 (R5.1)
    REMINDER = "reminder"  # 24 h before the deadline (R5.1)
    OVERDUE = "overdue"  # R5.1
    RATE_REPORT = "rate_report"  # weekly rectification-rate report (R5.2)
    COMMENDATION = "commendation"  # 通报表扬, red list (R5.2)
    CRITICISM = "criticism"  # 通报批评, black list (R5.2)
    TALK = "talk"  # 约谈 / 问责 (R5.3)
    CORRECTION = "correction"  # withdraws an earlier notice (R5.3)
    AWARD = "award"  # R5.4
    FINANCE_SUMMARY = "finance_summary"  # R5.4


class OfficeRole(StrEnum):
    """Recipients that are offices rather than responsible units."""

    CAMPAIGN_OFFICE = "campaign_office"  # the supervising office (创文办)
    FINANCE_OFFICE = "finance_office"
    LEADERS = "leaders"  # the leaders who hold talks (约谈, R5.3)


@dataclass(frozen=True, kw_only=True)
class Recipient:
    """Exactly one of a unit or an office role."""

    unit_id: str | None = None
    role: OfficeRole | None = None

    def __post_init__(self) -> None:
        if (self.unit_id is None) == (self.role is None):
            raise ValueError("a recipient is either a unit or an office role")

    def __str__(self) -> str:
        return f"unit:{self.unit_id}" if self.unit_id is not None else f"office:{self.role}"


@dataclass(frozen=True, kw_only=True)
class RankedUnit:
    """One ranked unit's figures in an edition (R3, R4); exact values only."""

    unit_id: str
    category: str
    rank: int
    score: Fraction
    rate: Fraction | None
    reported: int
    rectified: int
    overdue: int
    rework: int


@dataclass(frozen=True, kw_only=True)
class EditionSummary:
    """What notify needs of one revision of an edition (R4.1, R4.5)."""

    year: int
    number: int
    revision: int
    cutoff: datetime
    rule_version: str
    ranked: tuple[RankedUnit, ...]
    red: frozenset[str]
    black: frozenset[str]

    def __post_init__(self) -> None:
        ranked = {unit.unit_id for unit in self.ranked}
        if len(ranked) != len(self.ranked):
            raise ValueError("a unit is ranked twice in one edition")
        # R4.4-R4.6: only ranked units can be listed.
        if unlisted := sorted((self.red | self.black) - ranked):
            raise ValueError(f"listed but not ranked: {unlisted}")

    @property
    def key(self) -> EditionKey:
        return EditionKey(year=self.year, number=self.number)


@dataclass(frozen=True, kw_only=True)
class PlannedNotice:
    """A notice to send. ``key_numbers`` are (name, value) pairs, exact values as ``"n/d"``
    with a ``*_display`` companion (R7). A correction names what it ``withdraws`` and from which
    revision; a talk or a correction names the ``talk_level`` ordered or cancelled.

    Edition notices (R5.2, R5.3) name their ``edition``; the others name what they are
    ``about`` (``issue:<id>``, ``allocation:<year>-<edition>-r<revision>``). ``items`` are the
    rows of a table (the finance summary's awards, R5.4)."""

    type: NoticeType
    recipient: Recipient
    edition: EditionKey | None = None
    revision: int = 1
    about: str | None = None
    key_numbers: tuple[tuple[str, str], ...] = ()
    items: tuple[tuple[str, str], ...] = ()
    talk_level: TalkLevel | None = None
    withdraws: NoticeType | None = None
    withdrawn_revision: int | None = None

    def __post_init__(self) -> None:
        if (self.edition is None) == (self.about is None):
            raise ValueError("a notice is about an edition or about something else, not both")

    @property
    def key(self) -> str:
        """Stable identity: the same notice planned twice has the same key."""
        if self.edition is not None:
            return f"{self.type}/{self.recipient}/{self.edition}/r{self.revision}"
        return f"{self.type}/{self.recipient}/{self.about}"


def notices_for_edition(
    edition: EditionSummary, escalation: EscalationState
) -> tuple[list[PlannedNotice], EscalationState]:
    """R5.2/R5.3: the notices for a new revision of an edition, and the new escalation state.

    - every ranked unit gets the rate report of this revision;
    - a unit newly on the red list gets a commendation, one newly on the black list a criticism
      and the talk its consecutive count k orders (R5.3);
    - a unit that an earlier revision of this edition listed but this one does not gets a
      correction withdrawing the commendation or the criticism (and cancelling that talk).

    "Newly" is relative to the previous revision of the same edition, so a revision repeats
    nothing already sent. A revision not newer than the one applied plans nothing.
    """
    listing = Listing(
        edition=edition.key, revision=edition.revision, red=edition.red, black=edition.black
    )
    new_state, step = escalate(escalation, listing)
    if step is None:
        return [], escalation
    figures = {unit.unit_id: _figures(unit) for unit in edition.ranked}
    notices = [_notice(edition, NoticeType.RATE_REPORT, u, figures[u]) for u in sorted(figures)]
    old_red = step.previous.red if step.previous is not None else frozenset[str]()
    notices += [
        _notice(edition, NoticeType.COMMENDATION, u, figures[u])
        for u in sorted(edition.red - old_red)
    ]
    for unit_id, k, level in step.talks:
        streak = (("consecutive_black", str(k)),)
        notices.append(_notice(edition, NoticeType.CRITICISM, unit_id, figures[unit_id] + streak))
        notices.append(_notice(edition, NoticeType.TALK, unit_id, streak, talk_level=level))
    if step.previous is not None:
        notices += [
            _notice(
                edition,
                NoticeType.CORRECTION,
                u,
                (),
                withdraws=NoticeType.COMMENDATION,
                withdrawn_revision=step.previous.revision,
            )
            for u in sorted(step.previous.red - edition.red)
        ]
    notices += [
        _notice(
            edition,
            NoticeType.CORRECTION,
            w.unit_id,
            (),
            talk_level=w.cancelled_talk,
            withdraws=NoticeType.CRITICISM,
            withdrawn_revision=w.withdrawn_revision,
        )
        for w in step.withdrawals
    ]
    return notices, new_state


def _notice(
    edition: EditionSummary,
    type_: NoticeType,
    unit_id: str,
    key_numbers: tuple[tuple[str, str], ...],
    *,
    talk_level: TalkLevel | None = None,
    withdraws: NoticeType | None = None,
    withdrawn_revision: int | None = None,
) -> PlannedNotice:
    return PlannedNotice(
        type=type_,
        recipient=Recipient(unit_id=unit_id),
        edition=edition.key,
        revision=edition.revision,
        key_numbers=key_numbers,
        talk_level=talk_level,
        withdraws=withdraws,
        withdrawn_revision=withdrawn_revision,
    )


def _figures(unit: RankedUnit) -> tuple[tuple[str, str], ...]:
    """R7: a unit's key numbers, exact beside display; a rate is displayed as a percentage."""
    numbers = [
        ("category", unit.category),
        ("rank", str(unit.rank)),
        ("score", _exact(unit.score)),
        ("score_display", _display(unit.score)),
        ("reported", str(unit.reported)),
        ("rectified", str(unit.rectified)),
        ("overdue", str(unit.overdue)),
        ("rework", str(unit.rework)),
    ]
    if unit.rate is not None:  # R3.3: undefined when nothing was reported
        numbers += [("rate", _exact(unit.rate)), ("rate_display", _display(unit.rate * 100))]
    return tuple(numbers)


def _exact(value: Fraction) -> str:
    """R7: always ``"n/d"``, integers included, so every exact field has one shape."""
    return f"{value.numerator}/{value.denominator}"


def _display(value: Fraction) -> str:
    """R7: rounded half up (away from zero) to 2 places, computed on integers."""
    hundredths = int(abs(value) * 100 + Fraction(1, 2))
    sign = "-" if value < 0 and hundredths else ""
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}"
