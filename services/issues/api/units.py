"""``/v1/units``: the unit directory (R1), changed by the office only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, UploadFile

from services.contracts.base import UnitId
from services.contracts.commands import RegisterUnit
from services.runtime.auth import Principal

from ..directory import UnitDirectory
from ..schemas import UnitChangesIn, UnitIn
from ..spreadsheets import read_upload
from . import READERS, allow


def router(directory: UnitDirectory, max_upload: int) -> APIRouter:
    api = APIRouter(prefix="/v1/units", tags=["units"])
    office = allow(directory.runtime, "office")
    reader = allow(directory.runtime, *READERS)

    @api.post("", status_code=201)
    async def register_unit(body: UnitIn, _: Principal = office) -> dict[str, Any]:
        return await directory.register(body)

    @api.put("/{unit_id}")
    async def update_unit(
        unit_id: UnitId, body: UnitChangesIn, _: Principal = office
    ) -> dict[str, Any]:
        return await directory.update(RegisterUnit(unit_id=unit_id, **body.model_dump()))

    @api.post("/{unit_id}/deactivate")
    async def deactivate_unit(unit_id: UnitId, _: Principal = office) -> dict[str, Any]:
        return await directory.deactivate(unit_id)

    @api.post("/{unit_id}/reactivate")
    async def reactivate_unit(unit_id: UnitId, _: Principal = office) -> dict[str, Any]:
        return await directory.reactivate(unit_id)

    @api.post("/import")
    async def import_units(file: UploadFile, _: Principal = office) -> dict[str, Any]:
        """CSV or XLSX with the columns unit_id, name, category, parent_id (all-or-nothing)."""
        return await directory.import_rows(await read_upload(file, max_upload))

    @api.get("")
    async def list_units(_: Principal = reader) -> Any:
        return await directory.all_units()

    return api
