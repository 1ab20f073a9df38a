"""Subscribers of the ranking service: thin adapters that record facts (no business ``if``s).

One durable consumer per input stream (``ranking-issues``, ``ranking-assessments``), so that
every position of those streams is accounted for: applied, recognised as a duplicate, or
dead-lettered as invalid. That is what makes the input positions of an edition exact (R7).

No ``from __future__ import annotations`` here: FastStream reads each handler's parameter type
at runtime to validate the payload against its contract.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from faststream.nats import NatsMessage
from pydantic import Field

from services.contracts import issues as iw
from services.contracts import units as uw
from services.contracts.assessments import AssessmentScored
from services.contracts.dead_letter import DeadLetter
from services.contracts.envelope import Event
from services.contracts.incentives import Allocated
from services.contracts.streams import ASSESSMENTS, ISSUES
from services.runtime.db import Conn
from services.runtime.inbox import first_delivery
from services.runtime.service import ServiceRuntime, stream_position

from .fund import FUND_CONSUMER, record_allocation
from .projection import (
    ignore_fact,
    mark_handled,
    record_issue_fact,
    record_score,
    record_unit_fact,
)

Record = Callable[[Conn, Event, int], Awaitable[None]]

RECORDERS: dict[type[Event], Record] = {
    **{
        m: record_unit_fact
        for m in (uw.UnitRegistered, uw.UnitUpdated, uw.UnitDeactivated, uw.UnitReactivated)
    },
    **{
        m: record_issue_fact
        for m in (
            iw.IssueReported,
            iw.IssueRectified,
            iw.IssueVerified,
            iw.IssueReopened,
            iw.IssueVoided,
            iw.IssueOverdue,
            iw.IssueTransferred,
            iw.DeadlineExtended,
        )
    },
    # Requests and refusals change no number (R2.6): handled, nothing to record.
    iw.ExtensionRequested: ignore_fact,
    iw.ExtensionRefused: ignore_fact,
    AssessmentScored: record_score,
}

# Everything the ISSUES stream carries in v1, told apart by the envelope's ``type``; a message
# of any other type fails validation and is dead-lettered with the reason.
IssuesStreamEvent = Annotated[
    uw.UnitRegistered
    | uw.UnitUpdated
    | uw.UnitDeactivated
    | uw.UnitReactivated
    | iw.IssueReported
    | iw.IssueRectified
    | iw.IssueVerified
    | iw.IssueReopened
    | iw.IssueVoided
    | iw.IssueOverdue
    | iw.IssueTransferred
    | iw.ExtensionRequested
    | iw.DeadlineExtended
    | iw.ExtensionRefused,
    Field(discriminator="type"),
]


async def apply_fact(runtime: ServiceRuntime, event: Event, msg: NatsMessage) -> None:
    """Record the fact once (idempotent by event id) and count its position as handled, in one
    transaction."""
    stream, seq = stream_position(msg)
    if stream is None or seq is None:
        raise RuntimeError("ranking consumes JetStream messages only")
    async with runtime.transaction() as conn:
        if await first_delivery(conn, "ranking", event.event_id, event.SUBJECT, seq):
            await RECORDERS[type(event)](conn, event, seq)
        await mark_handled(conn, stream, seq)


def subscribe_all(runtime: ServiceRuntime) -> None:
    """Wire ranking's two input consumers, the dead-letter hook and the board's fund."""

    @runtime.bus.stream_subscriber(ISSUES, "Units and issues for ranking's projection (R1-R3).")
    async def on_issues_stream(event: IssuesStreamEvent, msg: NatsMessage) -> None:
        await apply_fact(runtime, event, msg)

    @runtime.bus.stream_subscriber(ASSESSMENTS, "Monthly assessment scores (R4.2).")
    async def on_assessment(event: AssessmentScored, msg: NatsMessage) -> None:
        await apply_fact(runtime, event, msg)

    async def position_of_dead_letter(letter: DeadLetter) -> None:
        # Input that can never be applied was handled: it must not hold the position back.
        # A message dead-lettered after failing max_deliver times may be valid: the position
        # stays behind it (editions keep the earlier positions) until it is replayed.
        if (
            letter.stream in (ISSUES.name, ASSESSMENTS.name)
            and letter.stream_sequence is not None
            and letter.reason.startswith("invalid payload")
        ):
            async with runtime.transaction() as conn:
                await mark_handled(conn, letter.stream, letter.stream_sequence)

    runtime.bus.dead_letter_hooks.append(position_of_dead_letter)

    @runtime.bus.subscriber(Allocated)
    async def on_allocated(event: Allocated, msg: NatsMessage) -> None:
        """The fund on the board page (R6): each settlement recorded once. Not an input of
        editions, so it has no input position (R7)."""
        _, seq = stream_position(msg)
        await runtime.apply_once(
            FUND_CONSUMER, event, msg, lambda conn: record_allocation(conn, event, seq)
        )
