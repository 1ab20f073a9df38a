"""HTTP adapter of the ranking service: parse, call one use case, return."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime

from services.contracts.base import Contract
from services.runtime.http import NotFound

from .assessments import ScoreIn, record_score
from .editions import EditionsService


class CutoffIn(Contract):
    """R4.1: the cutoff instant (RFC 3339 with offset)."""

    cutoff: AwareDatetime


def router(editions: EditionsService) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.post("/assessments", status_code=202)
    async def score(body: ScoreIn) -> dict[str, Any]:
        """R4.2: accepted for publication on assessments.v1.scored."""
        return await record_score(editions.runtime, body)

    @api.post("/editions")
    async def publish(body: CutoffIn) -> dict[str, Any]:
        return await editions.publish(body.cutoff)

    @api.post("/editions/preview")
    async def preview(body: CutoffIn) -> dict[str, Any]:
        return await editions.preview(body.cutoff)

    @api.get("/editions/latest")
    async def latest() -> dict[str, Any]:
        found = await editions.latest()
        if found is None:
            raise NotFound("no edition has been published yet")
        return found

    @api.get("/editions/{year}/{number}")
    async def get(year: int, number: int) -> dict[str, Any]:
        found = await editions.get(year, number)
        if found is None:
            raise NotFound(f"no edition {year}/{number}")
        return found

    return api
