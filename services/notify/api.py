"""HTTP and bus adapters of the notify service: parse, call one use case, return (STYLE.md 2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from faststream.nats import NatsMessage

from services.contracts.ranking import EditionPublished
from services.runtime.service import ServiceRuntime

from . import repository as repo
from .domain.escalation import TalkLevel
from .domain.notices import NoticeType
from .use_cases import NotifyService
from .worker import DeliveryWorker

UnitQuery = Annotated[
    str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$", max_length=64)
]
Status = Literal["pending", "delivered", "failed", "skipped"]


def router(runtime: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.get("/notifications")
    async def list_notifications(
        unit_id: UnitQuery = None, type: NoticeType | None = None, status: Status | None = None
    ) -> list[dict[str, Any]]:
        """R5: notices and their delivery state, newest first (at most 500)."""
        async with runtime.pool.connection() as conn:
            return await repo.list_notifications(
                conn, unit_id, None if type is None else str(type), status
            )

    @api.get("/talks")
    async def list_talks(
        unit_id: UnitQuery = None, level: TalkLevel | None = None
    ) -> list[dict[str, Any]]:
        """R5.3: talks ordered (or cancelled by a correction), newest first (at most 500)."""
        async with runtime.pool.connection() as conn:
            return await repo.list_talks(conn, unit_id, level)

    return api


def subscribe(runtime: ServiceRuntime, service: NotifyService, worker: DeliveryWorker) -> None:
    """``ranking.v1.edition_published`` → plan the edition's notices (R5.2, R5.3)."""

    async def on_edition_published(event: EditionPublished, msg: NatsMessage) -> None:
        if await service.plan_edition(event, msg):
            worker.poke()

    runtime.bus.subscriber(EditionPublished)(on_edition_published)
