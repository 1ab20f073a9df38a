"""``units.v1.*``: the unit directory (R1), published by the issues service."""

from __future__ import annotations

from typing import Literal

from .base import ShortText, UnitId
from .envelope import Event

UnitCategory = Literal["department", "district", "town"]


class UnitRegistered(Event):
    """R1.1-R1.2: a unit (责任单位) joined the directory."""

    SUBJECT = "units.v1.registered"
    type: Literal["units.v1.registered"] = "units.v1.registered"
    unit_id: UnitId
    name: ShortText
    category: UnitCategory
    parent_id: UnitId | None = None
    active: bool = True


class UnitUpdated(Event):
    """R1.2: the office changed a unit's name, category or parent (full new snapshot)."""

    SUBJECT = "units.v1.updated"
    type: Literal["units.v1.updated"] = "units.v1.updated"
    unit_id: UnitId
    name: ShortText
    category: UnitCategory
    parent_id: UnitId | None = None
    active: bool


class UnitDeactivated(Event):
    """R1.3: the unit leaves future rankings; it is never deleted."""

    SUBJECT = "units.v1.deactivated"
    type: Literal["units.v1.deactivated"] = "units.v1.deactivated"
    unit_id: UnitId


class UnitReactivated(Event):
    """R1.3: the unit takes part in rankings again."""

    SUBJECT = "units.v1.reactivated"
    type: Literal["units.v1.reactivated"] = "units.v1.reactivated"
    unit_id: UnitId
