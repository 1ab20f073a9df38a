"""The issues service: units and the supervision-notice lifecycle (R1, R2)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from services.contracts import issues as wire
from services.contracts import units as unit_wire
from services.contracts.streams import ISSUES
from services.runtime.service import ServiceRuntime

from .api import commands, issues, lifecycle, reinspections, units
from .api.errors import add_error_handlers
from .backfill import Backfill
from .directory import UnitDirectory
from .overdue import OverdueScheduler
from .reinspections import Reinspections
from .rules import load_rules
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
    """Wire the issues service: its runtime, publishers, commands, HTTP app and scheduler.

    The rules file is read first: an invalid one stops the service naming the field. The
    runtime has no hook for background tasks, so the app's lifespan is the runtime's with the
    overdue scheduler (R2.4) and the daily draw (R2.5) nested inside it; ``app.state.scheduler``
    lets tests drive it without the lifespan.
    """
    settings = settings or IssuesSettings()
    rules = load_rules(settings.rules_file)
    runtime = ServiceRuntime("issues", settings, Path(__file__).parent / "migrations", (ISSUES,))
    for model in PUBLISHES:
        runtime.bus.publisher(model)
    service = IssuesService(
        runtime=runtime,
        number_prefix=settings.number_prefix,
        time_limits=rules.time_limits,
        default_time_limit=rules.default_time_limit,
    )
    directory = UnitDirectory(runtime)
    draws = Reinspections(runtime, rules.reinspection.fraction, rules.reinspection.seed)
    scheduler = OverdueScheduler(
        runtime, rules.overdue.poll_seconds, rules.overdue.batch, also=[draws.ensure_today]
    )
    commands.subscribe(service, directory)
    upload = settings.max_upload_bytes
    app = runtime.http_app(
        "Chuangwen issues",
        [
            units.router(directory, upload),
            issues.router(service, Backfill(service), upload),
            lifecycle.router(service),
            reinspections.router(draws),
        ],
    )
    add_error_handlers(app, settings.max_json_bytes, upload)
    app.state.scheduler = scheduler
    app.state.rules = rules
    runtime_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(app):
            if settings.scheduler_enabled:
                scheduler.start()
            try:
                yield
            finally:
                await scheduler.stop()

    app.router.lifespan_context = lifespan
    return app, runtime
