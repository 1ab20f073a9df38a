"""HTTP adapter of the incentives service: parse, call one use case, return (STYLE.md 2).

Money is integer fen beside a yuan string (R6.1). Every endpoint needs a bearer token of the
office, a viewer or ops: the fund is public money, so a viewer may read it all.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from services.contracts.base import UnitId
from services.runtime.auth import Role, requires

from .exports import ExportFile
from .use_cases import IncentivesService

Year = Annotated[int, Path(ge=2000, le=2200)]
YearQuery = Annotated[int, Query(ge=2000, le=2200)]
READERS: tuple[Role, ...] = ("office", "viewer", "ops")


def router(service: IncentivesService) -> APIRouter:
    runtime = service.runtime
    api = APIRouter(
        prefix="/v1", dependencies=[Depends(requires(lambda: runtime.tokens, *READERS))]
    )

    @api.get("/funds/{year}")
    async def show_fund(year: Year) -> dict[str, Any]:
        return await service.fund(year)

    @api.get("/allocations/{year}/{edition}")
    async def show_allocations(year: Year, edition: Annotated[int, Path(ge=1)]) -> dict[str, Any]:
        return await service.allocations(year, edition)

    @api.get("/ledger")
    async def show_ledger(year: YearQuery, unit_id: UnitId | None = None) -> list[dict[str, Any]]:
        return await service.ledger(year, unit_id)

    @api.get("/ledger.csv", response_class=Response)
    async def export_ledger_csv(year: YearQuery, unit_id: UnitId | None = None) -> Response:
        """The ledger for the finance office: CSV (UTF-8), Chinese headers, yuan to 2 places."""
        return _download(await service.export_ledger(year, unit_id, "csv"))

    @api.get("/ledger.xlsx", response_class=Response)
    async def export_ledger_xlsx(year: YearQuery, unit_id: UnitId | None = None) -> Response:
        """The ledger for the finance office: XLSX, Chinese headers, yuan to 2 places."""
        return _download(await service.export_ledger(year, unit_id, "xlsx"))

    return api


def _download(file: ExportFile) -> Response:
    return Response(
        file.content,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )
