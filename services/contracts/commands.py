"""Request-reply commands on ``cmd.<service>.v1.<verb>`` (never captured by a stream)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints

from .base import Contract, LongText, ShortText, UnitId, Url
from .issues import Location
from .units import UnitCategory

REPORT_ISSUE = "cmd.issues.v1.report"
REGISTER_UNIT = "cmd.issues.v1.register_unit"
UPDATE_UNIT = "cmd.issues.v1.update_unit"
DEACTIVATE_UNIT = "cmd.issues.v1.deactivate_unit"
REACTIVATE_UNIT = "cmd.issues.v1.reactivate_unit"


class IssueIntake(Contract):
    """R2.1-R2.2: report a problem (Open311-style fields). ``request_id`` makes a retry safe:
    the same id answers with the issue it created the first time."""

    unit_id: UnitId
    category: ShortText
    point_type: ShortText
    description: LongText
    location: Location
    photos: Annotated[list[Url], Field(max_length=20)] = []
    found_at: AwareDatetime
    inspector: ShortText
    team: ShortText
    deadline: AwareDatetime | None = None
    request_id: UUID | None = None


class ReportIssue(IssueIntake):
    """``cmd.issues.v1.report``: on the bus a reply can be lost and the request retried, so the
    request id is required there (a second issue would inflate the unit's counts, R3.1)."""

    request_id: UUID


class UnitFields(Contract):
    """R1.1: a unit's name, category and (for a town) its district."""

    name: ShortText
    category: UnitCategory
    parent_id: UnitId | None = None


class RegisterUnit(UnitFields):
    """``cmd.issues.v1.register_unit`` (R1.2): the office registers a unit.

    ``registered_at`` is for a city that starts mid-campaign (R2.1 backfill): the unit has been
    in the directory since then, so editions with earlier cutoffs rank it (R1.3 "as of T").
    It must not be in the future; it is ignored when an import updates an existing unit.
    """

    unit_id: UnitId
    registered_at: AwareDatetime | None = None


class UpdateUnit(RegisterUnit):
    """``cmd.issues.v1.update_unit`` (R1.2): the unit's full new name, category and parent."""


class UnitRef(Contract):
    """``cmd.issues.v1.deactivate_unit`` / ``reactivate_unit`` (R1.3): the unit concerned."""

    unit_id: UnitId


class FieldError(Contract):
    """One invalid field: its path (``location.lat``) and what is wrong with it."""

    path: Annotated[str, StringConstraints(max_length=500)]
    message: Annotated[str, StringConstraints(max_length=1000)]


class CommandError(Contract):
    """A structured refusal: a stable code, a readable message, the offending fields."""

    code: Literal["invalid", "not_found", "conflict", "internal"]
    message: Annotated[str, StringConstraints(max_length=2000)]
    fields: list[FieldError] = []


class CommandReply(Contract):
    """Every command answers with either ``result`` or ``error``."""

    ok: bool
    result: dict[str, Any] | None = None
    error: CommandError | None = None
