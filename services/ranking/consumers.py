"""Subscribers of the ranking service: thin adapters that record facts (no business ``if``s).

No ``from __future__ import annotations`` here: FastStream reads each handler's parameter type
at runtime to validate the payload against its contract.
"""

from collections.abc import Awaitable, Callable

from faststream.nats import NatsMessage

from services.contracts import issues as iw
from services.contracts import units as uw
from services.contracts.assessments import AssessmentScored
from services.contracts.dead_letter import DeadLetter
from services.contracts.envelope import Event
from services.runtime.db import Conn
from services.runtime.inbox import first_delivery
from services.runtime.service import ServiceRuntime, stream_position

from .projection import mark_handled, record_issue_fact, record_score, record_unit_fact

Record = Callable[[Conn, Event, int], Awaitable[None]]

CONSUMES: tuple[tuple[type[Event], Record], ...] = (
    *(
        (m, record_unit_fact)
        for m in (uw.UnitRegistered, uw.UnitUpdated, uw.UnitDeactivated, uw.UnitReactivated)
    ),
    *(
        (m, record_issue_fact)
        for m in (
            iw.IssueReported,
            iw.IssueRectified,
            iw.IssueVerified,
            iw.IssueReopened,
            iw.IssueVoided,
            iw.IssueOverdue,
        )
    ),
    (AssessmentScored, record_score),
)


async def apply_fact(
    runtime: ServiceRuntime, event: Event, msg: NatsMessage, record: Record
) -> None:
    """Record the fact once (idempotent by event id) and count its position as handled."""
    stream, seq = stream_position(msg)
    if stream is None or seq is None:
        raise RuntimeError("ranking consumes JetStream messages only")
    async with runtime.transaction() as conn:
        if await first_delivery(conn, "ranking", event.event_id, event.SUBJECT, seq):
            await record(conn, event, seq)
        await mark_handled(conn, stream, seq)


def subscribe_all(runtime: ServiceRuntime) -> None:
    """One durable consumer per subject (``ranking-<subject>``), each unique."""
    for model, record in CONSUMES:
        runtime.bus.subscriber(model)(_handler(runtime, model, record))

    async def position_of_dead_letter(letter: DeadLetter) -> None:
        # A dead-lettered message was handled too: it must not hold the input position back.
        if letter.stream in ("ISSUES", "ASSESSMENTS") and letter.stream_sequence is not None:
            async with runtime.transaction() as conn:
                await mark_handled(conn, letter.stream, letter.stream_sequence)

    runtime.bus.dead_letter_hooks.append(position_of_dead_letter)


def _handler(
    runtime: ServiceRuntime, model: type[Event], record: Record
) -> Callable[..., Awaitable[None]]:
    async def handle(event: Event, msg: NatsMessage) -> None:
        await apply_fact(runtime, event, msg, record)

    handle.__annotations__ = {"event": model, "msg": NatsMessage, "return": None}
    handle.__name__ = f"on_{model.SUBJECT.replace('.', '_')}"
    return handle
