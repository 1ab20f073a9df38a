"""Subscribers of the ranking service: thin adapters that record facts (no business ``if``s).

One durable consumer per input stream (``ranking-issues``, ``ranking-assessments``), so that
every position of those streams is accounted for: applied, recognised as a duplicate, or
dead-lettered as invalid. That is what makes the input positions of an edition exact (R7).

No ``from __future__ import annotations`` here: FastStream reads each handler's parameter type
at runtime to validate the payload against its contract.
"""

import functools
from collections.abc import Callable
from typing import Annotated, Any

from nats.aio.msg import Msg
from pydantic import Field, TypeAdapter

from services.contracts import issues as iw
from services.contracts import units as uw
from services.contracts.assessments import AssessmentScored
from services.contracts.dead_letter import DeadLetter
from services.contracts.envelope import Event
from services.contracts.incentives import Allocated
from services.contracts.streams import ASSESSMENTS, ISSUES
from services.runtime.batches import BatchApplier, Policy, raw_messages
from services.runtime.broker import JsMessage
from services.runtime.positions import stream_position_of
from services.runtime.service import ServiceRuntime, stream_position

from .fund import FUND_CONSUMER, record_allocation
from .projection import Delivery, apply_deliveries, mark_handled
from .settings import RankingSettings

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


_issues_stream: TypeAdapter[Event] = TypeAdapter(IssuesStreamEvent)
_assessments: TypeAdapter[AssessmentScored] = TypeAdapter(AssessmentScored)


def decoder(adapter: TypeAdapter[Any]) -> Callable[[Msg], Delivery]:
    """A message of an input stream -> the event (validated against its contract) with its
    stream position (R7)."""

    def decode(msg: Msg) -> Delivery:
        stream, seq = stream_position_of(msg)
        return Delivery(adapter.validate_json(msg.data), stream, seq)

    return decode


def subscribe_all(runtime: ServiceRuntime, settings: RankingSettings) -> None:
    """Wire ranking's two input consumers, the dead-letter hook and the board's fund.

    The fetched batches of an input stream waiting to be applied are one transaction
    (`BatchApplier`): their facts (a fact's row, keyed by its event id, records that the event
    was applied), issue summaries and input positions commit together, then each message is
    acked; an invalid message is dead-lettered alone and a failing one is retried alone. The
    next batch is fetched and decoded while one is applied; stopping applies what was handed
    over first."""
    policy = Policy(settings.max_deliver, settings.nak_delays_seconds)

    def applier(name: str, adapter: TypeAdapter[Any]) -> BatchApplier[Delivery]:
        return BatchApplier(
            name,
            functools.partial(runtime.transaction, pipeline=True),
            decoder(adapter),
            apply_deliveries,
            runtime.bus.dead_letters,
            policy,
        )

    issues, assessments = (
        applier("ranking-issues", _issues_stream),
        applier("ranking-assessments", _assessments),
    )
    runtime.before_stopping += [issues.drain, assessments.drain]

    @runtime.bus.stream_subscriber(
        ISSUES, "Units and issues for ranking's projection (R1-R3).", batch=True
    )
    async def on_issues_stream(events: list[IssuesStreamEvent], msg: JsMessage) -> None:
        await issues(raw_messages(msg))

    @runtime.bus.stream_subscriber(
        ASSESSMENTS,
        "Monthly assessment scores (R4.2).",
        batch=True,
        batch_wait=settings.assessment_batch_wait_seconds,
    )
    async def on_assessments(events: list[AssessmentScored], msg: JsMessage) -> None:
        await assessments(raw_messages(msg))

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
    async def on_allocated(event: Allocated, msg: JsMessage) -> None:
        """The fund on the board page (R6): each settlement recorded once. Not an input of
        editions, so it has no input position (R7)."""
        _, seq = stream_position(msg)
        await runtime.apply_once(
            FUND_CONSUMER, event, msg, lambda conn: record_allocation(conn, event, seq)
        )
