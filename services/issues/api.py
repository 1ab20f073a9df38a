"""HTTP adapter of the issues service: parse, call one use case, return (STYLE.md 2)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from services.contracts.commands import REPORT_ISSUE, CommandReply, FieldError, ReportIssue
from services.runtime.commands import error_reply
from services.runtime.http import NotFound

from . import repository as repo
from .domain.errors import DomainError, InvalidTransition, UnknownUnit
from .schemas import InspectionIn, IssueIn, RectificationIn, UnitIn, VoidIn
from .use_cases import IssuesService


def router(service: IssuesService) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.post("/units", status_code=201)
    async def register_unit(body: UnitIn) -> dict[str, Any]:
        return await service.register_unit(body)

    @api.get("/units")
    async def list_units() -> list[dict[str, Any]]:
        async with service.runtime.pool.connection() as conn:
            return await repo.list_units(conn)

    @api.post("/issues", status_code=201)
    async def report_issue(body: IssueIn) -> dict[str, Any]:
        return await service.report_issue(body)

    @api.get("/issues/{issue_id}")
    async def show_issue(issue_id: UUID) -> dict[str, Any]:
        async with service.runtime.pool.connection() as conn:
            view = await repo.get_issue_view(conn, issue_id)
        if view is None:
            raise NotFound(f"no issue {issue_id}")
        return view

    @api.get("/issues/{issue_id}/history")
    async def issue_history(issue_id: UUID) -> list[dict[str, Any]]:
        async with service.runtime.pool.connection() as conn:
            return await repo.history(conn, issue_id)

    @api.post("/issues/{issue_id}/rectification")
    async def rectify(issue_id: UUID, body: RectificationIn) -> dict[str, Any]:
        return await service.rectify(issue_id, body)

    @api.post("/issues/{issue_id}/inspection")
    async def inspect(issue_id: UUID, body: InspectionIn) -> dict[str, Any]:
        return await service.inspect(issue_id, body)

    @api.post("/issues/{issue_id}/void")
    async def void(issue_id: UUID, body: VoidIn) -> dict[str, Any]:
        return await service.void(issue_id, body)

    return api


def add_error_handlers(app: FastAPI) -> None:
    """Rule violations: 409 for a transition the state does not allow (with the current state),
    422 for a command the rules reject; both change nothing."""

    @app.exception_handler(InvalidTransition)
    async def invalid_transition(_: Request, exc: InvalidTransition) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "current_state": exc.current_state, "attempted": exc.attempted},
            status_code=409,
        )

    @app.exception_handler(UnknownUnit)
    async def unknown_unit(_: Request, exc: UnknownUnit) -> JSONResponse:
        error = {"loc": ["body", "unit_id"], "msg": str(exc), "type": "unknown_unit"}
        return JSONResponse({"detail": [error]}, status_code=422)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        error = {"loc": ["body"], "msg": str(exc), "type": type(exc).__name__}
        return JSONResponse({"detail": [error]}, status_code=422)


def commands(service: IssuesService) -> None:
    """``cmd.issues.v1.report``: the intake for internal systems (request-reply)."""

    @service.runtime.bus.command(REPORT_ISSUE, "Report an issue; the reply is the created issue.")
    async def report(command: ReportIssue) -> CommandReply:
        try:
            return CommandReply(ok=True, result=await service.report_issue(command))
        except UnknownUnit as exc:
            return error_reply(
                "not_found", str(exc), [FieldError(path="unit_id", message=str(exc))]
            )
        except DomainError as exc:
            return error_reply("invalid", str(exc))
