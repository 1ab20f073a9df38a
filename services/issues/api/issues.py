"""``/v1/issues``: intake (R2.1-R2.2), queries, history and the office's backfill (R2.1)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, UploadFile

from services.runtime.auth import Principal

from ..backfill import Backfill
from ..queries import IssueQuery
from ..schemas import BackfillIn, IssueIn
from ..spreadsheets import read_upload
from ..use_cases import IssuesService
from . import READERS, allow


def router(service: IssuesService, backfill: Backfill, max_upload: int) -> APIRouter:
    api = APIRouter(prefix="/v1/issues", tags=["issues"])
    runtime = service.runtime
    reader = allow(runtime, *READERS)
    office = allow(runtime, "office")
    reporter = allow(runtime, "inspector", "office")

    @api.post("", status_code=201)
    async def report_issue(body: IssueIn, _: Principal = reporter) -> dict[str, Any]:
        return await service.report_issue(body)

    @api.get("")
    async def list_issues(
        query: Annotated[IssueQuery, Query()], who: Principal = reader
    ) -> dict[str, Any]:
        return await service.search(query, who)

    @api.get("/{issue_id}")
    async def show_issue(issue_id: UUID, who: Principal = reader) -> dict[str, Any]:
        return await service.show(issue_id, who)

    @api.get("/{issue_id}/history")
    async def issue_history(issue_id: UUID, who: Principal = reader) -> list[dict[str, Any]]:
        return await service.history(issue_id, who)

    @api.post("/import", status_code=201)
    async def backfill_issues(body: BackfillIn, who: Principal = office) -> dict[str, Any]:
        return await backfill.run(body, who)

    @api.post("/import/file", status_code=201)
    async def backfill_file(
        file: UploadFile, who: Principal = office, allow_inactive_units: bool = False
    ) -> dict[str, Any]:
        """CSV or XLSX: one issue per row (see the README for the columns); each row needs a
        ``ledger_number`` (or ``request_id``). ``allow_inactive_units``: the office imports the
        history of units deactivated since (R1.3)."""
        rows = await read_upload(file, max_upload)
        return await backfill.run_rows(rows, who, allow_inactive_units)

    return api
