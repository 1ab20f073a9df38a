"""``/v1/reinspections``: the daily seeded draw (R2.5) and the office's additions by hand."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter

from services.runtime.auth import Principal

from ..reinspections import Reinspections
from ..schemas import ReinspectionIn
from . import allow


def router(reinspections: Reinspections) -> APIRouter:
    api = APIRouter(prefix="/v1/reinspections", tags=["reinspections"])
    runtime = reinspections.runtime
    staff = allow(runtime, "office", "inspector", "viewer", "ops")
    office = allow(runtime, "office")

    @api.get("")
    async def reinspections_of(date: date, _: Principal = staff) -> dict[str, Any]:
        return await reinspections.for_day(date)

    @api.post("", status_code=201)
    async def add_by_hand(body: ReinspectionIn, who: Principal = office) -> dict[str, Any]:
        return await reinspections.add(body, who)

    return api
