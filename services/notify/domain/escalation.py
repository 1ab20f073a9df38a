"""Escalation of repeated black listings (约谈、问责, R5.3), as a fold over editions.

k is the number of editions in a row, counting this one, in which a unit is black-listed. Editions
are taken in order of ``(year, number)`` (across year boundaries, on-demand editions included),
and only the latest revision of each edition counts; an edition where the unit is not
black-listed, ranked or not, resets k to 0. The state is the set of latest listings itself, so k
is always recomputed from scratch and any delivery order or repetition gives the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "EditionKey",
    "Escalation",
    "EscalationState",
    "Listing",
    "TalkLevel",
    "Withdrawal",
    "escalate",
    "fold_listings",
    "talk_level",
]


class TalkLevel(StrEnum):
    """R5.3: who holds the talk for k consecutive black listings."""

    CITY_LEADER = "city_leader"  # k = 1: 市领导约谈
    ORGANISATION_DEPARTMENT = "organisation_department"  # k = 2: 组织部门约谈
    ACCOUNTABILITY = "accountability"  # k ≥ 3: 问责


def talk_level(k: int) -> TalkLevel | None:
    """R5.3: the talk ordered by the k-th consecutive black listing (None when k = 0)."""
    if k < 0:
        raise ValueError(f"k counts listings and cannot be negative, got {k}")
    if k == 0:
        return None
    if k == 1:
        return TalkLevel.CITY_LEADER
    if k == 2:
        return TalkLevel.ORGANISATION_DEPARTMENT
    return TalkLevel.ACCOUNTABILITY


@dataclass(frozen=True, kw_only=True, order=True)
class EditionKey:
    """R4.1: an edition is numbered within its campaign year; the order is ``(year, number)``."""

    # Field order is the sort order: year first, then number.
    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.year}-{self.number}"


@dataclass(frozen=True, kw_only=True)
class Listing:
    """One revision of an edition's red and black lists (R4.5), as escalation needs them."""

    edition: EditionKey
    revision: int
    red: frozenset[str]
    black: frozenset[str]

    def __post_init__(self) -> None:
        if self.revision < 1:
            raise ValueError(f"revisions start at 1, got {self.revision}")
        if both := sorted(self.red & self.black):
            raise ValueError(f"units on both lists of {self.edition}: {both}")


@dataclass(frozen=True)
class EscalationState:
    """The latest revision of every edition seen so far, in edition order."""

    listings: tuple[Listing, ...] = ()

    def latest(self, edition: EditionKey) -> Listing | None:
        """The listing of ``edition`` currently in force, if any."""
        return next((x for x in self.listings if x.edition == edition), None)

    def streaks(self, through: EditionKey | None = None) -> dict[str, int]:
        """R5.3: k per unit after ``through`` (inclusive; after the last edition when None).

        Units with k = 0 are left out.
        """
        k: dict[str, int] = {}
        for listing in self.listings:
            if through is not None and through < listing.edition:
                break
            k = {unit_id: k.get(unit_id, 0) + 1 for unit_id in listing.black}
        return k


@dataclass(frozen=True, kw_only=True)
class Withdrawal:
    """R5.3: a revision took ``unit_id`` off the black list; the criticism it had in
    ``withdrawn_revision`` and the talk that ordered (``cancelled_talk``) are withdrawn."""

    unit_id: str
    withdrawn_revision: int
    cancelled_talk: TalkLevel


@dataclass(frozen=True, kw_only=True)
class Escalation:
    """What one new listing means for escalation.

    ``talks`` maps each newly black-listed unit to its k (units already black-listed in the
    previous revision of the same edition were dealt with then). ``previous`` is the revision
    this one replaces, if any.
    """

    listing: Listing
    previous: Listing | None
    talks: tuple[tuple[str, int, TalkLevel], ...]
    withdrawals: tuple[Withdrawal, ...]


def escalate(state: EscalationState, listing: Listing) -> tuple[EscalationState, Escalation | None]:
    """R5.3: apply one listing; None when it is not newer than the revision already applied.

    A redelivered or older revision changes nothing, which makes the fold idempotent.
    """
    previous = state.latest(listing.edition)
    if previous is not None and listing.revision <= previous.revision:
        return state, None
    others = (x for x in state.listings if x.edition != listing.edition)
    new_state = EscalationState(tuple(sorted((*others, listing), key=lambda x: x.edition)))
    k_now = new_state.streaks(listing.edition)
    already = previous.black if previous is not None else frozenset[str]()
    talks = tuple(
        (unit_id, k_now[unit_id], _level(k_now[unit_id]))
        for unit_id in sorted(listing.black - already)
    )
    withdrawals: tuple[Withdrawal, ...] = ()
    if previous is not None:
        k_before = state.streaks(listing.edition)
        withdrawals = tuple(
            Withdrawal(
                unit_id=unit_id,
                withdrawn_revision=previous.revision,
                cancelled_talk=_level(k_before[unit_id]),
            )
            for unit_id in sorted(previous.black - listing.black)
        )
    return new_state, Escalation(
        listing=listing, previous=previous, talks=talks, withdrawals=withdrawals
    )


def fold_listings(listings: Iterable[Listing]) -> EscalationState:
    """R5.3: the state after all ``listings``, in any order and with repeats."""
    state = EscalationState()
    for listing in sorted(listings, key=lambda x: (x.edition, x.revision)):
        state, _ = escalate(state, listing)
    return state


def _level(k: int) -> TalkLevel:
    level = talk_level(k)
    assert level is not None, "a black-listed unit has k >= 1"
    return level


def waits_for(state: EscalationState, edition: EditionKey) -> EditionKey | None:
    """R5.3 counts consecutive editions, so an edition must be seen after the one before it.

    The first revision of edition n of a year waits until n-1 of that year is known; returns
    the edition it waits for, or None. (Across a year boundary the number of editions of the
    previous year is not known here, so edition 1 never waits.)
    """
    if state.latest(edition) is not None or edition.number == 1:
        return None
    earlier = EditionKey(year=edition.year, number=edition.number - 1)
    return None if state.latest(earlier) is not None else earlier
