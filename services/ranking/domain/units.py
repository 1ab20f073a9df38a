"""The ranking service's view of the unit directory (责任单位, R1).

The issues service owns the directory and publishes every change (R1.2); here the change facts are
folded into each unit's snapshot as of a cutoff T (R1.3), whatever order they arrived in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.ranking.domain.facts import dedupe
from services.ranking.domain.instants import require_aware

__all__ = ["Category", "UnitEventKind", "UnitFact", "UnitSnapshot", "unit_as_of"]


class Category(StrEnum):
    """R1.1: 市直部门 / 区、县级市 / 镇、街. Declaration order is the order editions list them."""

    DEPARTMENT = "department"
    DISTRICT = "district"
    TOWN = "town"


class UnitEventKind(StrEnum):
    """The `units.v1.*` events (R1.2, R1.3)."""

    REGISTERED = "registered"
    UPDATED = "updated"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"


_IMPLIED_ACTIVE = {
    UnitEventKind.REGISTERED: True,
    UnitEventKind.DEACTIVATED: False,
    UnitEventKind.REACTIVATED: True,
}


@dataclass(frozen=True, kw_only=True)
class UnitFact:
    """One `units.v1.*` event.

    ``registered`` and ``updated`` carry the unit's descriptive fields (name, category, parent)
    as they are after the event; ``deactivated``/``reactivated`` need not. ``active`` is the flag
    the event states, if it states one; otherwise it follows from the kind (``updated`` leaves it).
    """

    unit_id: str
    kind: UnitEventKind
    occurred_at: datetime
    aggregate_version: int
    name: str | None = None
    category: Category | None = None
    parent_id: str | None = None
    active: bool | None = None

    def __post_init__(self) -> None:
        # Callers decoding JSON may pass plain strings; folding compares enum members by
        # identity, so normalise here (an unknown value raises ValueError).
        if type(self.kind) is not UnitEventKind:
            object.__setattr__(self, "kind", UnitEventKind(self.kind))
        if self.category is not None and type(self.category) is not Category:
            object.__setattr__(self, "category", Category(self.category))
        require_aware(self.occurred_at, "occurred_at")
        if self.aggregate_version < 1:
            raise ValueError(f"aggregate_version starts at 1, got {self.aggregate_version}")
        if self.kind in (UnitEventKind.REGISTERED, UnitEventKind.UPDATED) and (
            self.name is None or self.category is None
        ):
            raise ValueError(f"{self.kind} fact for {self.unit_id} needs name and category")

    @property
    def states_active(self) -> bool | None:
        """The active flag after this event, or None when the event leaves it unchanged."""
        if self.active is not None:
            return self.active
        return _IMPLIED_ACTIVE.get(self.kind)


@dataclass(frozen=True, kw_only=True)
class UnitSnapshot:
    """R1.3: a unit as it stood at a cutoff T (name, category, parent and whether it is active)."""

    unit_id: str
    name: str
    category: Category
    parent_id: str | None
    active: bool


def unit_as_of(facts: Iterable[UnitFact], at: datetime) -> dict[str, UnitSnapshot]:
    """R1.3: each unit's snapshot as of ``at``, from the facts with ``occurred_at <= at``.

    Events at exactly ``at`` count (R3 "at T" includes T). Facts are folded per unit in
    ``(occurred_at, aggregate_version)`` order and repeats of a version are dropped, so arrival
    order and redelivery do not matter. A unit whose descriptive fields are not yet known at
    ``at`` (no ``registered``/``updated`` fact by then) has no snapshot: without a category it
    could not be ranked anyway.
    """
    require_aware(at, "at")
    unique = dedupe(facts, lambda f: (f.unit_id, f.aggregate_version), "unit")
    by_unit: dict[str, list[UnitFact]] = {}
    for fact in unique:
        if fact.occurred_at <= at:
            by_unit.setdefault(fact.unit_id, []).append(fact)
    snapshots: dict[str, UnitSnapshot] = {}
    for unit_id in sorted(by_unit):
        ordered = by_unit[unit_id]
        if len(ordered) > 1:  # most units have only their registration
            ordered.sort(key=lambda f: (f.occurred_at, f.aggregate_version))
        snapshot = _fold(ordered)
        if snapshot is not None:
            snapshots[unit_id] = snapshot
    return snapshots


def _fold(ordered: list[UnitFact]) -> UnitSnapshot | None:
    name: str | None = None
    category: Category | None = None
    parent_id: str | None = None
    active = True
    for fact in ordered:
        if fact.name is not None and fact.category is not None:
            # registered/updated restate the descriptive fields as a whole, so a town that
            # becomes a department really loses its parent.
            name, category, parent_id = fact.name, fact.category, fact.parent_id
        stated = fact.states_active
        if stated is not None:
            active = stated
    if name is None or category is None:
        return None
    return UnitSnapshot(
        unit_id=ordered[0].unit_id, name=name, category=category, parent_id=parent_id, active=active
    )
