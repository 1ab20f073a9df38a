"""HTTP request bodies of the issues service (validated, bounded, ``extra="forbid"``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from services.contracts.base import Contract, Reason, UnitId, Url
from services.contracts.commands import IssueIntake, RegisterUnit, UnitFields

# R1.1: the HTTP bodies are the bus commands' fields.
UnitIn = RegisterUnit
UnitChangesIn = UnitFields
# The HTTP intake takes exactly the fields of the ``cmd.issues.v1.report`` command.
IssueIn = IssueIntake
Note = Annotated[str, Field(max_length=1000)]


class RectificationIn(Contract):
    """R2.3: the unit's report of the fix; at least one evidence photo."""

    evidence: Annotated[list[Url], Field(min_length=1, max_length=20)]
    note: Reason | None = None


class InspectionIn(Contract):
    """R2.3 回头看: the re-inspection result."""

    result: Literal["pass", "fail"]
    note: Note = ""


class VoidIn(Contract):
    """R2.3: why the issue is void (duplicate, not this unit's responsibility)."""

    reason: Reason


class TransferIn(Contract):
    """R2.6 转办: the unit that takes the issue over, and why."""

    unit_id: UnitId
    reason: Reason


class ExtensionIn(Contract):
    """R2.6 延期: the later deadline the unit asks for, and why."""

    deadline: AwareDatetime
    reason: Reason


class ExtensionDecisionIn(Contract):
    """R2.6: the office's answer to the pending extension request."""

    approved: bool
    note: Note = ""


class ReinspectionIn(Contract):
    """R2.5: the office adds an issue to a day's re-inspections by hand."""

    date: date
    issue_id: UUID
    reason: Reason


class Transition(Contract):
    """One historical transition of a backfilled issue (R2.3), at its original time."""

    kind: Literal["rectified", "pass", "fail", "void", "transfer", "extended"]
    at: AwareDatetime
    evidence: Annotated[list[Url], Field(max_length=20)] = []
    note: Note = ""
    reason: Note = ""
    unit_id: UnitId | None = None
    deadline: AwareDatetime | None = None


LedgerNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)
]


class BackfillIssue(IssueIntake):
    """R2.1: a historical issue with its original report time and transitions. Each record
    carries a key, its number in the office's original ledger and/or a ``request_id``: a
    record already imported under its key is skipped, so re-uploading a ledger doubles
    nothing."""

    reported_at: AwareDatetime
    transitions: Annotated[list[Transition], Field(max_length=100)] = []
    ledger_number: LedgerNumber | None = None

    @model_validator(mode="after")
    def _has_a_key(self) -> BackfillIssue:
        if self.ledger_number is None and self.request_id is None:
            raise ValueError("a backfilled record needs its ledger_number (or a request_id)")
        return self


class BackfillIn(Contract):
    """R2.1: an office backfill, imported all-or-nothing. The units' active flags are today's
    (the directory keeps no history); ``allow_inactive_units`` lets the office import the
    history of units that have been deactivated since."""

    issues: Annotated[list[BackfillIssue], Field(min_length=1, max_length=5000)]
    allow_inactive_units: bool = False
