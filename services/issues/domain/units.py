"""The unit directory (责任单位, R1): decisions that register and change units.

The issues service owns the directory and publishes every change as an event (R1.2). Each
decision takes the current directory, checks R1.1/R1.3, and returns the new unit together with
the event that records it; a rejected command raises and changes nothing. Events carry the full
snapshot after the change so that other services' projections are a plain overwrite.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.issues.domain.errors import InvalidCommand, InvalidTransition, UnknownUnit
from services.issues.domain.instants import require_aware

__all__ = [
    "UNIT_ID_PATTERN",
    "Category",
    "Unit",
    "UnitEvent",
    "UnitEventKind",
    "deactivate",
    "reactivate",
    "register",
    "update",
]

# R1.1: stable ids like `dist-pengjiang`. Starting and ending with a letter or digit keeps ids
# readable in URLs and subjects; 2-64 characters.
UNIT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")


class Category(StrEnum):
    """R1.1: 市直部门 / 区、县级市 / 镇、街."""

    DEPARTMENT = "department"
    DISTRICT = "district"
    TOWN = "town"


class UnitEventKind(StrEnum):
    """The directory changes published under R1.2."""

    REGISTERED = "registered"
    UPDATED = "updated"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"


@dataclass(frozen=True, kw_only=True)
class Unit:
    """R1.1: a responsible unit; ``version`` counts its events (1 after registration)."""

    unit_id: str
    name: str
    category: Category
    parent_id: str | None
    active: bool
    version: int


@dataclass(frozen=True, kw_only=True)
class UnitEvent:
    """R1.2: one directory change, with the unit's full snapshot after it."""

    kind: UnitEventKind
    occurred_at: datetime
    version: int
    unit_id: str
    name: str
    category: Category
    parent_id: str | None
    active: bool


def register(
    directory: Mapping[str, Unit],
    *,
    unit_id: str,
    name: str,
    category: Category,
    parent_id: str | None,
    at: datetime,
) -> tuple[Unit, UnitEvent]:
    """R1.1/R1.2: register a new, active unit. An id already in the directory is refused."""
    if not UNIT_ID_PATTERN.match(unit_id):
        raise InvalidCommand(f"unit_id {unit_id!r} must be 2-64 of a-z, 0-9 and '-'")
    if unit_id in directory:
        raise InvalidCommand(f"unit {unit_id!r} is already registered")
    name = _checked_name(name)
    _check_parent(directory, unit_id, Category(category), parent_id)
    unit = Unit(
        unit_id=unit_id,
        name=name,
        category=Category(category),
        parent_id=parent_id,
        active=True,
        version=1,
    )
    return unit, _event(UnitEventKind.REGISTERED, unit, at)


def update(
    directory: Mapping[str, Unit],
    *,
    unit_id: str,
    name: str,
    category: Category,
    parent_id: str | None,
    at: datetime,
) -> tuple[Unit, UnitEvent | None]:
    """R1.2: replace a unit's name, category and parent.

    An update that changes nothing returns no event, so a repeated request is harmless. A district
    that is still some town's parent cannot change category: the towns would lose their district.
    """
    current = _existing(directory, unit_id)
    name = _checked_name(name)
    category = Category(category)
    _check_parent(directory, unit_id, category, parent_id)
    if current.category is Category.DISTRICT and category is not Category.DISTRICT:
        children = sorted(u.unit_id for u in directory.values() if u.parent_id == unit_id)
        if children:
            raise InvalidCommand(f"district {unit_id!r} is the parent of {', '.join(children)}")
    if (current.name, current.category, current.parent_id) == (name, category, parent_id):
        return current, None
    unit = replace(
        current, name=name, category=category, parent_id=parent_id, version=current.version + 1
    )
    return unit, _event(UnitEventKind.UPDATED, unit, at)


def deactivate(directory: Mapping[str, Unit], unit_id: str, at: datetime) -> tuple[Unit, UnitEvent]:
    """R1.3: a unit is never deleted; deactivating it takes it out of future rankings."""
    return _set_active(directory, unit_id, at, active=False)


def reactivate(directory: Mapping[str, Unit], unit_id: str, at: datetime) -> tuple[Unit, UnitEvent]:
    """R1.3: bring a deactivated unit back into future rankings."""
    return _set_active(directory, unit_id, at, active=True)


def _set_active(
    directory: Mapping[str, Unit], unit_id: str, at: datetime, *, active: bool
) -> tuple[Unit, UnitEvent]:
    current = _existing(directory, unit_id)
    if current.active is active:
        # Repeating the same change is a mistake worth reporting, not a silent no-op (R1.3).
        raise InvalidTransition(
            "active" if current.active else "inactive", "reactivate" if active else "deactivate"
        )
    unit = replace(current, active=active, version=current.version + 1)
    kind = UnitEventKind.REACTIVATED if active else UnitEventKind.DEACTIVATED
    return unit, _event(kind, unit, at)


def _existing(directory: Mapping[str, Unit], unit_id: str) -> Unit:
    unit = directory.get(unit_id)
    if unit is None:
        raise UnknownUnit(unit_id)
    return unit


def _checked_name(name: str) -> str:
    stripped = name.strip()
    if not stripped:
        raise InvalidCommand("a unit needs a name")
    return stripped


def _check_parent(
    directory: Mapping[str, Unit], unit_id: str, category: Category, parent_id: str | None
) -> None:
    """R1.1: a town has a parent, which is a district; no other unit has one."""
    if category is not Category.TOWN:
        if parent_id is not None:
            raise InvalidCommand(f"only a town has a parent; {unit_id!r} is a {category}")
        return
    if parent_id is None:
        raise InvalidCommand(f"town {unit_id!r} needs a parent district")
    parent = directory.get(parent_id)
    if parent is None:
        raise UnknownUnit(parent_id)
    if parent.category is not Category.DISTRICT:
        raise InvalidCommand(f"parent {parent_id!r} of town {unit_id!r} is not a district")


def _event(kind: UnitEventKind, unit: Unit, at: datetime) -> UnitEvent:
    return UnitEvent(
        kind=kind,
        occurred_at=require_aware(at, "at"),
        version=unit.version,
        unit_id=unit.unit_id,
        name=unit.name,
        category=unit.category,
        parent_id=unit.parent_id,
        active=unit.active,
    )
