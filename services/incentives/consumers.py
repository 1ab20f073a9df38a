"""NATS adapter of the incentives service: parse (the contract model), call one use case."""

from __future__ import annotations

from services.contracts.ranking import EditionPublished
from services.runtime.broker import JsMessage
from services.runtime.service import ServiceRuntime

from .use_cases import IncentivesService


def subscribe(runtime: ServiceRuntime, service: IncentivesService) -> None:
    """Durable pull consumer ``incentives-ranking-v1-edition_published`` (R6.2)."""

    async def on_edition(event: EditionPublished, msg: JsMessage) -> None:
        await service.settle_edition(event, msg)

    runtime.bus.subscriber(EditionPublished)(on_edition)
