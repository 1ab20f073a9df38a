"""Domain events → contract events (``units.v1.*``, ``issues.v1.*``) for the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from services.contracts import issues as wire
from services.contracts import units as unit_wire
from services.contracts.envelope import Event

from .domain import issue_events as dom
from .domain.units import UnitEvent, UnitEventKind

PRODUCER = "issues"

_UNIT_EVENTS: dict[UnitEventKind, type[Event]] = {
    UnitEventKind.REGISTERED: unit_wire.UnitRegistered,
    UnitEventKind.UPDATED: unit_wire.UnitUpdated,
    UnitEventKind.DEACTIVATED: unit_wire.UnitDeactivated,
    UnitEventKind.REACTIVATED: unit_wire.UnitReactivated,
}


def unit_event(event: UnitEvent, new_id: Callable[[], UUID]) -> Event:
    """R1.2: every directory change is published with the unit's full snapshot."""
    model = _UNIT_EVENTS[event.kind]
    fields: dict[str, Any] = {"unit_id": event.unit_id}
    if event.kind in (UnitEventKind.REGISTERED, UnitEventKind.UPDATED):
        fields |= {
            "name": event.name,
            "category": str(event.category),
            "parent_id": event.parent_id,
            "active": event.active,
        }
    return model(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        producer=PRODUCER,
        aggregate_id=event.unit_id,
        aggregate_version=event.version,
        **fields,
    )


def issue_event(event: dom.IssueEvent, new_id: Callable[[], UUID], actor: str) -> Event | None:
    """The contract event for a lifecycle event (``overdue`` has its own: ``overdue_event``)."""
    envelope: dict[str, Any] = {
        "event_id": new_id(),
        "occurred_at": event.occurred_at,
        "producer": PRODUCER,
        "aggregate_id": str(event.issue_id),
        "aggregate_version": event.version,
        "issue_id": event.issue_id,
        "unit_id": event.unit_id,
    }
    match event:
        case dom.IssueReported():
            d = event.details
            return wire.IssueReported(
                **envelope,
                number=event.number,
                category=event.category,
                point_type=d.point_type,
                description=d.description,
                location=wire.Location(address=d.address, lat=d.lat, lon=d.lon),
                photos=list(d.photos),
                found_at=event.found_at,
                reported_at=event.reported_at,
                deadline=event.deadline,
                inspector=d.inspector,
                team=d.team,
                imported=event.imported,
            )
        case dom.IssueRectified():
            return wire.IssueRectified(**envelope, evidence=list(event.evidence))
        case dom.IssueVerified():
            return wire.IssueVerified(**envelope, inspector=actor, note=event.note or None)
        case dom.IssueReopened():
            return wire.IssueReopened(
                **envelope,
                inspector=actor,
                rework_count=event.rework_count,
                note=event.note or None,
            )
        case dom.IssueVoided():
            return wire.IssueVoided(**envelope, reason=event.reason)
        case dom.IssueTransferred():
            return wire.IssueTransferred(
                **envelope, from_unit_id=event.from_unit_id, reason=event.reason
            )
        case dom.ExtensionRequested():
            return wire.ExtensionRequested(
                **envelope, requested_deadline=event.requested_deadline, reason=event.reason
            )
        case dom.DeadlineExtended():
            return wire.DeadlineExtended(
                **envelope,
                previous_deadline=event.previous_deadline,
                deadline=event.deadline,
                note=event.note,
            )
        case dom.ExtensionRefused():
            return wire.ExtensionRefused(
                **envelope, requested_deadline=event.requested_deadline, note=event.note
            )
    return None


def overdue_event(
    event: dom.IssueBecameOverdue, number: str, new_id: Callable[[], UUID]
) -> wire.IssueOverdue:
    """R2.4: the issue entered the overdue condition (the number is for the notice, R5.1);
    ``imported`` for a spell a backfill replayed (no notice is due for it)."""
    return wire.IssueOverdue(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        producer=PRODUCER,
        aggregate_id=str(event.issue_id),
        aggregate_version=event.version,
        issue_id=event.issue_id,
        unit_id=event.unit_id,
        number=number,
        deadline=event.deadline,
        imported=event.imported,
    )
