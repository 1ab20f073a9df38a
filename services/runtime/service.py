"""One service process: PostgreSQL pool + migrations, NATS bus + streams, outbox relay, HTTP.

A service module builds a ``ServiceRuntime``, declares its publishers and subscribers on
``runtime.bus``, adds its routers to ``runtime.http_app(...)`` and calls ``serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.nats import NatsMessage

from services.contracts.envelope import Event
from services.contracts.streams import DLQ, StreamSpec

from .auth import TokenBook
from .body_limit import BodySizeLimit
from .broker import Bus
from .db import Conn, Pool, open_pool, wait_for_database
from .faults import Faults
from .heap import settle_heap
from .inbox import first_delivery, prune_processed
from .logs import configure_logging
from .migrations import migrate
from .outbox import OutboxRelay, stage, stage_raw
from .settings import ServiceSettings

log = logging.getLogger(__name__)


def stream_position(msg: NatsMessage) -> tuple[str | None, int | None]:
    """(stream name, stream sequence) of a JetStream message."""
    metadata = getattr(msg.raw_message, "metadata", None)
    if metadata is None:
        return None, None
    return metadata.stream, metadata.sequence.stream


class ServiceRuntime:
    """Wires the adapters of one service; holds no business logic."""

    def __init__(
        self,
        name: str,
        settings: ServiceSettings,
        migrations: Path,
        streams: tuple[StreamSpec, ...],
    ) -> None:
        self.name = name
        self.settings = settings
        self.migrations = migrations
        self.streams = (*streams, DLQ)
        self.bus = Bus(name, settings)
        self.bus.dead_letter_publisher()
        self._tokens: TokenBook | None = None
        self._pool: Pool | None = None
        self._relay: OutboxRelay | None = None
        self._maintenance: asyncio.Task[None] | None = None
        # What each open `transaction` runs once it has committed (`after_commit`).
        self._after_commit: dict[Conn, list[Callable[[], None]]] = {}
        # Run at start after the migrations, before any message is consumed (e.g. a one-off
        # backfill a migration asked for).
        self.before_consuming: list[Callable[[Pool], Awaitable[None]]] = []
        # Run at stop while the broker still runs, e.g. `BatchApplier.drain`.
        self.before_stopping: list[Callable[[], Awaitable[None]]] = []

    @property
    def tokens(self) -> TokenBook:
        """The bearer tokens this service accepts (loaded at start)."""
        if self._tokens is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._tokens

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._pool

    # -- use cases ---------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def transaction(self, pipeline: bool = False) -> AsyncIterator[Conn]:
        """One transaction per use case. What `after_commit` was given runs once it has
        committed (the outbox relay's wake-up, if it staged events), not after a rollback.

        ``pipeline``: in psycopg's pipeline mode from BEGIN to COMMIT, so a statement whose
        result is not read goes out with the next one (BEGIN with the first query, the last
        writes with COMMIT): fewer round trips, each a wait for a busy machine's CPU. A
        statement's error then surfaces at the next read or at the commit, and ``rowcount``
        is unknown until then: read a ``RETURNING`` instead."""
        async with self.pool.connection() as conn:
            hooks: list[Callable[[], None]] = []
            self._after_commit[conn] = hooks
            try:
                async with contextlib.AsyncExitStack() as stack:
                    if pipeline:
                        await stack.enter_async_context(conn.pipeline())
                    await stack.enter_async_context(conn.transaction())
                    yield conn
            finally:
                del self._after_commit[conn]
        for hook in hooks:
            hook()

    def after_commit(self, conn: Conn, hook: Callable[[], None]) -> None:
        """Call ``hook`` (once, however often it is given) after the open `transaction` of
        ``conn`` commits: a wake-up for work the commit makes visible. Waking a task before
        the commit would let it look too early and wait for its next poll instead."""
        hooks = self._after_commit.get(conn)
        if hooks is None:
            raise RuntimeError(f"{self.name}: not a connection of an open runtime transaction")
        if hook not in hooks:
            hooks.append(hook)

    async def commit(self, conn: Conn, events: Sequence[Event]) -> None:
        """Stage ``events`` in the outbox inside the open transaction ``conn``; the relay is
        woken after it commits. (Waking it after every transaction cost each consumer's batch
        an empty flush of four round trips.)"""
        await stage(conn, events)
        if events:
            self._wake_relay(conn)

    async def commit_raw(self, conn: Conn, event_id: UUID, subject: str, payload: bytes) -> None:
        """`commit` for bytes that are already canonical JSON (R7: published as computed)."""
        await stage_raw(conn, event_id, subject, payload)
        self._wake_relay(conn)

    def _wake_relay(self, conn: Conn) -> None:
        if self._relay is not None:
            self.after_commit(conn, self._relay.poke)

    async def apply_once(
        self,
        consumer: str,
        event: Event,
        msg: NatsMessage,
        apply: Callable[[Conn], Awaitable[Any]],
    ) -> bool:
        """Apply ``event`` at most once for ``consumer``: the processed id, the state change
        and any outbox rows commit together. Returns False for a duplicate."""
        _, seq = stream_position(msg)
        async with self.transaction() as conn:
            if not await first_delivery(conn, consumer, event.event_id, event.SUBJECT, seq):
                log.debug("duplicate ignored", extra={"event_id": str(event.event_id)})
                return False
            await apply(conn)
            return True

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        # First, so that a bad tokens file stops the service at once with its reason.
        assert s.auth_mode is not None
        self._tokens = TokenBook.load(s.auth_mode, s.auth_tokens_file)
        await wait_for_database(s.database, s.startup_timeout_seconds)
        await migrate(s.database, self.name, self.migrations)
        self._pool = await open_pool(s.database, self.name, s.db_pool_max)
        for step in self.before_consuming:
            await step(self._pool)
        await self.bus.connect(s.startup_timeout_seconds)
        await self.bus.provision(self.streams)
        await self.bus.update_consumers()
        self._relay = OutboxRelay(
            self._pool,
            self.bus.publish_events,
            s.outbox_poll_seconds,
            self.name,
            faults=Faults(s.fault_hooks),
            in_flight=s.outbox_in_flight,
        )
        self._relay.start()
        await self.bus.broker.start()
        self._maintenance = asyncio.create_task(self._maintain(), name="maintenance")
        log.info("started", extra={"http": f"http://{s.http_host}:{s.http_port}"})

    async def _maintain(self) -> None:
        """Sample consumer lag for ``/metrics``; now and then prune applied event ids past
        their retention (ARCHITECTURE.md "State")."""
        s = self.settings
        last_prune = 0.0
        while True:
            await asyncio.sleep(s.lag_sample_seconds)
            try:
                await self.bus.sample_lag()
                if time.monotonic() - last_prune >= s.maintenance_interval_seconds:
                    async with self.transaction() as conn:
                        pruned = await prune_processed(conn, s.processed_retention_days)
                    last_prune = time.monotonic()
                    log.info("pruned processed event ids", extra={"rows": pruned})
            except Exception:
                log.warning("maintenance failed; will try again", exc_info=True)

    async def stop(self) -> None:
        """Stop in order, each step bounded: a step that hangs (a handler stuck on a dead
        connection, say) is logged and skipped, so the process always exits; whatever was not
        committed and acked is redelivered (at-least-once)."""
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
        for step in self.before_stopping:
            await self._bounded("before stopping", step(), 20.0)
        # FastStream waits up to graceful_timeout (30 s) for handlers in flight.
        await self._bounded("broker", self.bus.broker.stop(), 40.0)
        if self._relay is not None:
            await self._bounded("outbox relay", self._relay.stop(), 15.0)
        if self._pool is not None:
            await self._bounded("database pool", self._pool.close(timeout=5.0), 10.0)
        log.info("stopped")

    @staticmethod
    async def _bounded(step: str, awaitable: Awaitable[None], seconds: float) -> None:
        try:
            await asyncio.wait_for(awaitable, seconds)
        except TimeoutError:
            log.error("stopping timed out; going on", extra={"step": step, "seconds": seconds})
        except Exception:
            log.error("stopping failed; going on", extra={"step": step}, exc_info=True)

    async def ready(self) -> dict[str, bool]:
        checks = {"database": False, "nats": False}
        with contextlib.suppress(Exception):
            async with self.pool.connection(timeout=2) as conn:
                await conn.execute("SELECT 1")
                checks["database"] = True
        with contextlib.suppress(Exception):
            checks["nats"] = bool(self.bus.broker.connection.is_connected)
        return checks

    def http_app(self, title: str, routers: Sequence[APIRouter]) -> FastAPI:
        """The service's FastAPI app; its lifespan starts and stops everything above."""
        from .http import add_operational_routes

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            settle_heap()  # once served: what lives as long as the process, frozen
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=title, version="1", lifespan=lifespan)
        for router in routers:
            app.include_router(router)
        add_operational_routes(app, self.ready)
        app.add_middleware(BodySizeLimit, max_bytes=self.settings.max_body_bytes)
        return app


def serve(app: FastAPI, settings: ServiceSettings, service: str) -> None:
    """Run ``app`` under uvicorn; Ctrl-C / SIGTERM stop it gracefully (lifespan shutdown)."""
    configure_logging(service, settings.log_level or "INFO")
    print(f"{service} listens on http://{settings.http_host}:{settings.http_port}", flush=True)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=20,
        # libuv's event loop and the C HTTP parser, not asyncio's and h11's pure-Python ones:
        # the event loop runs every NATS message, query and request of the service.
        loop="uvloop",
        http="httptools",
    )
