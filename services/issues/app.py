"""The issues service: units and the supervision-notice lifecycle (R1, R2)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.contracts import issues as wire
from services.contracts import units as unit_wire
from services.contracts.streams import ISSUES
from services.runtime.service import ServiceRuntime

from .api import add_error_handlers, commands, router
from .settings import IssuesSettings
from .use_cases import IssuesService

PUBLISHES = (
    unit_wire.UnitRegistered,
    unit_wire.UnitUpdated,
    unit_wire.UnitDeactivated,
    unit_wire.UnitReactivated,
    wire.IssueReported,
    wire.IssueRectified,
    wire.IssueVerified,
    wire.IssueReopened,
    wire.IssueVoided,
    wire.IssueOverdue,
    wire.IssueTransferred,
    wire.ExtensionRequested,
    wire.DeadlineExtended,
    wire.ExtensionRefused,
)


def build(settings: IssuesSettings | None = None) -> tuple[FastAPI, ServiceRuntime]:
    """Wire the issues service: its runtime, publishers and HTTP app."""
    settings = settings or IssuesSettings()
    runtime = ServiceRuntime("issues", settings, Path(__file__).parent / "migrations", (ISSUES,))
    for model in PUBLISHES:
        runtime.bus.publisher(model)
    service = IssuesService(
        runtime=runtime,
        number_prefix=settings.number_prefix,
        time_limits=settings.category_time_limits,
        default_time_limit=settings.default_time_limit,
    )
    commands(service)
    app = runtime.http_app("Chuangwen issues", [router(service)])
    add_error_handlers(app)
    return app, runtime
