"""HTTP and bus adapters of the notify service: parse, call one use case, return (STYLE.md 2)."""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request

from services.contracts.base import Contract, LongText
from services.contracts.envelope import Event
from services.contracts.incentives import Allocated
from services.contracts.ranking import EditionPublished
from services.runtime.auth import Principal, requires
from services.runtime.batches import BatchApplier, Policy, raw_messages
from services.runtime.broker import JsMessage
from services.runtime.service import ServiceRuntime

from . import issue_events
from . import repository as repo
from .domain.escalation import TalkLevel
from .domain.notices import NoticeType
from .issue_events import IssueEvents
from .office import Office
from .recipients import RECIPIENT, CsvError, RecipientIn
from .samples import sample
from .settings import NotifySettings
from .texts import notice_body
from .triggers import Triggers
from .use_cases import NotifyService

UnitQuery = Annotated[
    str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$", max_length=64)
]
Status = Literal["pending", "delivered", "failed", "skipped"]
MAX_CSV_BYTES = 2 * 1024 * 1024


class ScheduleTalk(Contract):
    date: date


class HoldTalk(Contract):
    held_on: date
    minutes: LongText


def _own(principal: Principal, unit_id: str | None) -> str | None:
    """A unit reads only its own notices and talks (ARCHITECTURE.md "Roles")."""
    return principal.unit_id if principal.role == "unit" else unit_id


def router(runtime: ServiceRuntime, office: Office) -> APIRouter:
    api = APIRouter(prefix="/v1")
    reader = Depends(requires(lambda: runtime.tokens, "office", "viewer", "ops", "unit"))
    office_only = Depends(requires(lambda: runtime.tokens, "office"))
    staff = Depends(requires(lambda: runtime.tokens, "office", "ops"))

    @api.get("/notifications")
    async def list_notifications(
        unit_id: UnitQuery = None,
        type: NoticeType | None = None,
        status: Status | None = None,
        principal: Principal = reader,
    ) -> list[dict[str, Any]]:
        """R5: notices and their delivery state, newest first (at most 500)."""
        async with runtime.pool.connection() as conn:
            return await repo.list_notifications(
                conn, _own(principal, unit_id), None if type is None else str(type), status
            )

    @api.post("/notifications/{notification_id}/resend", dependencies=[office_only])
    async def resend(notification_id: UUID) -> dict[str, Any]:
        """Send a notification again as a new attempt chain, with a webhook-id of its own."""
        return await office.resend(notification_id)

    @api.get("/talks")
    async def list_talks(
        unit_id: UnitQuery = None, level: TalkLevel | None = None, principal: Principal = reader
    ) -> list[dict[str, Any]]:
        """R5.3: talks ordered, scheduled, held or cancelled by a correction, newest first."""
        async with runtime.pool.connection() as conn:
            return await repo.list_talks(conn, _own(principal, unit_id), level)

    @api.post("/talks/{talk_id}/schedule", dependencies=[office_only])
    async def schedule_talk(talk_id: UUID, body: ScheduleTalk) -> dict[str, Any]:
        """R5.3: the office sets the date of an ordered talk."""
        return await office.schedule_talk(talk_id, body.date)

    @api.post("/talks/{talk_id}/held", dependencies=[office_only])
    async def hold_talk(talk_id: UUID, body: HoldTalk) -> dict[str, Any]:
        """R5.3: the office records that a scheduled talk was held, with its minutes."""
        return await office.hold_talk(talk_id, body.held_on, body.minutes)

    @api.get("/recipients", dependencies=[staff])
    async def list_recipients() -> list[dict[str, Any]]:
        """Recipients and their channels; secrets are never returned."""
        return await office.list_recipients()

    @api.put("/recipients/{recipient}", status_code=204, dependencies=[office_only])
    async def put_recipient(
        body: RecipientIn, recipient: Annotated[str, Path(pattern=RECIPIENT)]
    ) -> None:
        """Create or replace ``unit:<unit_id>`` or ``office:<role>`` with contacts and channels."""
        await office.put_recipient(recipient, body)

    @api.post("/recipients/import", dependencies=[office_only])
    async def import_recipients(
        request: Request, _: Annotated[str, Body(media_type="text/csv")] = ""
    ) -> dict[str, int]:
        """CSV (UTF-8, header ``recipient,name,contact_name,contact_phone,channel,kind,url,
        secret``): all lines or none."""
        data = await request.body()
        if len(data) > MAX_CSV_BYTES:
            raise HTTPException(413, f"at most {MAX_CSV_BYTES} bytes")
        try:
            return {"recipients": await office.import_recipients(data.decode("utf-8-sig"))}
        except UnicodeDecodeError:
            raise HTTPException(422, "the CSV must be UTF-8") from None
        except CsvError as exc:
            raise HTTPException(422, exc.errors) from None

    @api.get("/templates/{type}/preview", dependencies=[reader])
    async def preview_template(type: NoticeType) -> dict[str, Any]:
        """A notice of ``type`` rendered from its template with sample data."""
        body = notice_body(sample(type), UUID(int=0), "蓬江区")
        return {k: body[k] for k in ("notice_type", "title", "text", "key_numbers", "items")}

    return api


def subscribe(runtime: ServiceRuntime, service: NotifyService, settings: NotifySettings) -> None:
    """Editions (R5.2, R5.3), issues (R5.1) and allocations (R5.4), one durable per subject;
    the issue subjects' in batches (`issue_events`). What they plan wakes the delivery worker
    after the commit (`NotifyService.on_planned`)."""
    triggers = Triggers(service)

    async def on_edition_published(event: EditionPublished, msg: JsMessage) -> None:
        await service.plan_edition(event, msg)

    async def on_allocated(event: Allocated, msg: JsMessage) -> None:
        await triggers.allocated(event, msg)

    runtime.bus.subscriber(EditionPublished)(on_edition_published)
    runtime.bus.subscriber(Allocated)(on_allocated)

    apply = IssueEvents(service).apply
    pipelined = functools.partial(runtime.transaction, pipeline=True)
    policy = Policy(settings.max_deliver, settings.nak_delays_seconds)
    for model in issue_events.SUBJECTS:
        name = issue_events.consumer_of(model.SUBJECT)
        decode = issue_events.decoder(model)
        applier = BatchApplier(name, pipelined, decode, apply, runtime.bus.dead_letters, policy)
        runtime.before_stopping.append(applier.drain)
        wait = settings.issue_batch_wait_seconds
        runtime.bus.subscriber(model, batch=True, batch_wait=wait)(_batch_handler(model, applier))


def _batch_handler(model: type[Event], applier: BatchApplier[Any]) -> Any:
    """A batch handler typed with ``list[model]`` (for the AsyncAPI document only)."""

    async def on_issue_events(events: Any, msg: JsMessage) -> None:
        await applier(raw_messages(msg))

    on_issue_events.__annotations__ = {"events": list[model], "msg": JsMessage, "return": None}  # type: ignore[valid-type]
    name = "on_" + model.SUBJECT.split(".")[-1]
    on_issue_events.__name__ = on_issue_events.__qualname__ = name
    return on_issue_events
