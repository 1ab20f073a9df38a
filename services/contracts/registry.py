"""Every event contract by subject, for docs, schema export and tests."""

from __future__ import annotations

from .assessments import AssessmentScored
from .envelope import Event
from .incentives import Allocated
from .issues import (
    DeadlineExtended,
    ExtensionRefused,
    ExtensionRequested,
    IssueOverdue,
    IssueRectified,
    IssueReopened,
    IssueReported,
    IssueTransferred,
    IssueVerified,
    IssueVoided,
)
from .notify import Delivered, Failed
from .ranking import EditionPublished, RatesPublished
from .units import UnitDeactivated, UnitReactivated, UnitRegistered, UnitUpdated

EVENTS: tuple[type[Event], ...] = (
    UnitRegistered,
    UnitUpdated,
    UnitDeactivated,
    UnitReactivated,
    IssueReported,
    IssueRectified,
    IssueVerified,
    IssueReopened,
    IssueVoided,
    IssueOverdue,
    IssueTransferred,
    ExtensionRequested,
    DeadlineExtended,
    ExtensionRefused,
    AssessmentScored,
    EditionPublished,
    RatesPublished,
    Allocated,
    Delivered,
    Failed,
)

EVENTS_BY_SUBJECT: dict[str, type[Event]] = {model.SUBJECT: model for model in EVENTS}
