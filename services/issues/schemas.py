"""HTTP request bodies of the issues service (validated, bounded, ``extra="forbid"``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from services.contracts.base import Contract, Reason, ShortText, UnitId, Url
from services.contracts.commands import IssueIntake
from services.contracts.units import UnitCategory


class UnitIn(Contract):
    """R1.1: register a unit; a town names its district as ``parent_id``."""

    unit_id: UnitId
    name: ShortText
    category: UnitCategory
    parent_id: UnitId | None = None


# The HTTP intake takes exactly the fields of the ``cmd.issues.v1.report`` command.
IssueIn = IssueIntake


class RectificationIn(Contract):
    """R2.3: the unit's report of the fix; at least one evidence photo."""

    evidence: Annotated[list[Url], Field(min_length=1, max_length=20)]
    note: Reason | None = None
    actor: ShortText = "unit"


class InspectionIn(Contract):
    """R2.3 回头看: the re-inspection result."""

    result: Literal["pass", "fail"]
    note: Annotated[str, Field(max_length=1000)] = ""
    inspector: ShortText = "inspector"


class VoidIn(Contract):
    """R2.3: why the issue is void (duplicate, not this unit's responsibility)."""

    reason: Reason
    actor: ShortText = "office"
