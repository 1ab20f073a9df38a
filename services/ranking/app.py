"""The ranking service: rates, assessment scores and editions of the red/black lists (R3, R4)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.contracts.assessments import AssessmentScored
from services.contracts.ranking import EditionPublished, RatesPublished
from services.contracts.streams import ASSESSMENTS, INCENTIVES, ISSUES, RANKING
from services.runtime.service import ServiceRuntime

from . import store
from .api import router
from .assessments import ImportRejected
from .board import BoardService
from .board import router as board_router
from .consumers import subscribe_all
from .editions import EditionsService
from .projection import summarise_if_pending
from .rule_book import InvalidRules, RuleBook, load_rule_book
from .scheduler import WeeklySchedule
from .settings import RankingSettings


def build(settings: RankingSettings | None = None) -> tuple[FastAPI, ServiceRuntime]:
    """Wire the ranking service: projection consumers, edition publishers and HTTP API.

    An invalid rules file raises `InvalidRules` here, before anything starts."""
    settings = settings or RankingSettings()
    book = load_rule_book(settings.rules_file, settings.rule_version)
    # ranking provisions ASSESSMENTS (other systems publish there) and its own RANKING stream;
    # ISSUES and INCENTIVES (the board's fund) are declared too so that ranking can start
    # before the issues and incentives services.
    runtime = ServiceRuntime(
        "ranking",
        settings,
        Path(__file__).parent / "migrations",
        (ISSUES, ASSESSMENTS, RANKING, INCENTIVES),
    )
    runtime.bus.publisher(AssessmentScored)
    runtime.bus.publisher(EditionPublished)
    runtime.bus.publisher(RatesPublished)
    subscribe_all(runtime, settings)
    runtime.before_consuming.append(summarise_if_pending)
    editions = EditionsService(runtime=runtime, rules=book.current, tz=ZoneInfo(settings.timezone))
    board = BoardService(
        runtime, editions, editions.tz, overdue_cache_seconds=settings.board_overdue_cache_seconds
    )
    app = runtime.http_app(
        "Chuangwen ranking",
        [router(editions), board_router(board, settings.board_public, settings.board_echarts_file)],
    )
    app.add_exception_handler(ImportRejected, _import_rejected)  # type: ignore[arg-type]
    schedule = WeeklySchedule(
        editions,
        weekday=settings.schedule_weekday,
        hour=settings.schedule_hour,
        grace=timedelta(minutes=settings.schedule_grace_minutes),
        poll_seconds=settings.schedule_poll_seconds,
    )
    app.state.editions, app.state.schedule = editions, schedule  # for tests and tools
    app.state.board = board
    _run_beside(app, runtime, book, schedule if settings.schedule_enabled else None)
    return app, runtime


async def _import_rejected(_: Request, exc: ImportRejected) -> JSONResponse:
    return JSONResponse(exc.report, status_code=422)


async def check_rule_versions(runtime: ServiceRuntime, book: RuleBook) -> None:
    """R7: every rule version stamped on a stored edition must still be in the rules file."""
    async with runtime.pool.connection() as conn:
        missing = await store.rule_versions_used(conn) - set(book.versions)
    if missing:
        raise InvalidRules(f"rule versions used by published editions are missing: {missing}")


def _run_beside(
    app: FastAPI, runtime: ServiceRuntime, book: RuleBook, schedule: WeeklySchedule | None
) -> None:
    """After the runtime has started: check the rule versions, then run the schedule."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with inner(a):
            await check_rule_versions(runtime, book)
            if schedule is not None:
                schedule.start()
            try:
                yield
            finally:
                if schedule is not None:
                    await schedule.stop()

    app.router.lifespan_context = lifespan
