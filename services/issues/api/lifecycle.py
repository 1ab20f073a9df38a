"""``/v1/issues/{id}/...``: the lifecycle (R2.3), transfers and extensions (R2.6).

Roles: rectification and extension requests by the issue's own unit; inspections by an
inspector; void, transfer and extension decisions by the office.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from services.runtime.auth import Principal

from ..schemas import (
    ExtensionDecisionIn,
    ExtensionIn,
    InspectionIn,
    RectificationIn,
    TransferIn,
    VoidIn,
)
from ..use_cases import IssuesService
from . import allow


def router(service: IssuesService) -> APIRouter:
    api = APIRouter(prefix="/v1/issues/{issue_id}", tags=["lifecycle"])
    unit = allow(service.runtime, "unit")
    inspector = allow(service.runtime, "inspector")
    office = allow(service.runtime, "office")

    @api.post("/rectification")
    async def rectify(issue_id: UUID, body: RectificationIn, who: Principal = unit) -> Any:
        return await service.rectify(issue_id, body, who)

    @api.post("/inspection")
    async def inspect(issue_id: UUID, body: InspectionIn, who: Principal = inspector) -> Any:
        return await service.inspect(issue_id, body, who)

    @api.post("/void")
    async def void(issue_id: UUID, body: VoidIn, who: Principal = office) -> Any:
        return await service.void(issue_id, body, who)

    @api.post("/transfer")
    async def transfer(issue_id: UUID, body: TransferIn, who: Principal = office) -> Any:
        return await service.transfer(issue_id, body, who)

    @api.post("/extension")
    async def request_extension(issue_id: UUID, body: ExtensionIn, who: Principal = unit) -> Any:
        return await service.request_extension(issue_id, body, who)

    @api.post("/extension/decision")
    async def decide_extension(
        issue_id: UUID, body: ExtensionDecisionIn, who: Principal = office
    ) -> Any:
        return await service.decide_extension(issue_id, body, who)

    return api
