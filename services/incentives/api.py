"""HTTP adapter of the incentives service: parse, call one use case, return (STYLE.md 2).

Money is integer fen beside a yuan string (R6.1)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.contracts.base import UnitId

from .use_cases import IncentivesService

Year = Annotated[int, Path(ge=2000, le=2200)]


def router(service: IncentivesService) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.get("/funds/{year}")
    async def show_fund(year: Year) -> dict[str, Any]:
        return await service.fund(year)

    @api.get("/allocations/{year}/{edition}")
    async def show_allocations(year: Year, edition: Annotated[int, Path(ge=1)]) -> dict[str, Any]:
        return await service.allocations(year, edition)

    @api.get("/ledger")
    async def show_ledger(
        year: Annotated[int, Query(ge=2000, le=2200)], unit_id: UnitId | None = None
    ) -> list[dict[str, Any]]:
        return await service.ledger(year, unit_id)

    return api
