"""The board page (红黑榜看板): ``GET /board`` and its data, ``GET /v1/board``.

The page is three static files and Apache ECharts, all served by this service (no CDN, works
offline). Its data is what the newspaper prints and the award notices say: the latest edition's
red and black lists, rates across published editions, the fund as incentives booked it, and
overdue counts per unit as of now. Aggregates per unit only: no issue, no person, no address.
Public by default (``RANKING_BOARD_PUBLIC``); when not, ``/v1/board`` needs a reader's token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, PlainTextResponse, Response

from services.runtime.auth import requires
from services.runtime.service import ServiceRuntime

from . import fund, store
from .domain.board import EditionUnitRow, edition_board, overdue_by_unit, rate_trends
from .editions import EditionsService

STATIC = Path(__file__).parent / "static"
_FILES = {"board.js": "text/javascript", "board.css": "text/css"}
# The page loads nothing from elsewhere; ECharts sets inline styles on its own elements.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none';"
    " frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_EDITIONS = 260


@dataclass
class BoardService:
    """Reads for the board page; the overdue counts (computed from every fact) are cached."""

    runtime: ServiceRuntime
    editions: EditionsService
    tz: ZoneInfo
    overdue_cache_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _overdue: tuple[float, dict[str, Any]] | None = field(default=None, init=False)

    async def data(self, year: int | None, editions: int) -> dict[str, Any]:
        async with self.runtime.pool.connection() as conn:
            latest = await store.latest_edition(conn)
            rows = await store.recent_edition_rows(conn, editions)
            fund_year = year or (
                latest["year"] if latest else self.editions.now().astimezone(self.tz).year
            )
            money = await fund.fund_of_year(conn, fund_year)
            names = await store.unit_names(conn) if money else {}
        if money:
            for unit in money["units"]:
                known = names.get(unit["unit_id"], {})
                unit["name"] = known.get("name") or unit["unit_id"]
                unit["category"] = known.get("category")
        trends = rate_trends((EditionUnitRow(**r) for r in rows), self.tz)
        return {
            "edition": edition_board(latest, self.tz) if latest else None,
            "trends": trends,
            "fund": money or {"year": fund_year, "settled": False},
            "overdue": await self._overdue_now(),
        }

    async def _overdue_now(self) -> dict[str, Any]:
        """R2.4 as of now, at most ``overdue_cache_seconds`` old (a public page must not make
        every request fold every fact)."""
        now = self.clock()
        if self._overdue is not None and now - self._overdue[0] < self.overdue_cache_seconds:
            return self._overdue[1]
        at = self.editions.now().astimezone(UTC)
        report = await self.editions.rates(at)
        result = overdue_by_unit(at, report["units"])
        self._overdue = (now, result)
        return result


def router(board: BoardService, public: bool, echarts_file: Path) -> APIRouter:
    api = APIRouter()
    tokens = lambda: board.runtime.tokens  # noqa: E731 - loaded when the service starts
    reader = requires(tokens, "office", "inspector", "unit", "viewer", "ops")
    guard = [] if public else [Depends(reader)]

    @api.get("/board", include_in_schema=False)
    async def page() -> Response:
        """The board; ``?print=1`` is its print view (the page reads the parameter)."""
        return FileResponse(STATIC / "board.html", media_type="text/html", headers=_HEADERS)

    @api.get("/board/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name == "echarts.min.js":
            if not await asyncio.to_thread(echarts_file.is_file):
                return PlainTextResponse(
                    "ECharts is not installed: run `make install` (needs npm)", status_code=404
                )
            headers = {**_HEADERS, "Cache-Control": "public, max-age=86400"}
            return FileResponse(echarts_file, media_type="text/javascript", headers=headers)
        if name not in _FILES:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(STATIC / name, media_type=_FILES[name], headers=_HEADERS)

    @api.get("/v1/board", dependencies=guard)
    async def data(
        year: Annotated[int | None, Query(ge=2000, le=2200)] = None,
        editions: Annotated[int, Query(ge=1, le=MAX_EDITIONS)] = 53,
    ) -> dict[str, Any]:
        """The board page's data: the latest edition's red and black lists (``edition``, null
        before the first), rates per category and unit across the ``editions`` latest editions
        (``trends``), the fund of ``year`` (default: the latest edition's) as booked by
        incentives (``fund``, fen), and units with overdue issues now (``overdue``)."""
        return await board.data(year, editions)

    return api
