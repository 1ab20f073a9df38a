"""The delivery worker: an asyncio task that sends due notices and records each outcome (R5).

Each batch is claimed with ``FOR UPDATE SKIP LOCKED`` and sent while the rows stay locked, so
replicas never send the same row at once; the outcome, the next attempt and the
``notify.v1.*`` event commit together. A crash mid-batch rolls back and the batch is sent again
(at-least-once; receivers deduplicate on ``webhook-id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from . import repository as repo
from .delivery import Outcome, WebhookSender, backoff_seconds
from .settings import NotifySettings
from .use_cases import NotifyService

log = logging.getLogger(__name__)
NO_RECEIVER = "no webhook receiver configured (NOTIFY_WEBHOOK_URL)"


class DeliveryWorker:
    """Started and stopped by the app's lifespan, after and before the runtime."""

    def __init__(
        self,
        service: NotifyService,
        settings: NotifySettings,
        jitter: Callable[[], float] = random.random,  # spreading, not secrecy
    ) -> None:
        self._service = service
        self._settings = settings
        self._jitter = jitter
        self._sender: WebhookSender | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """Look for due deliveries now: an edition was just planned."""
        self._wake.set()

    def start(self) -> None:
        s = self._settings
        if s.webhook_url is not None and s.webhook_secret is not None:
            self._sender = WebhookSender(
                s.webhook_url,
                s.webhook_secret,
                s.delivery_timeout_seconds,
                s.allow_private_targets,
            )
        self._task = asyncio.create_task(self._run(), name="notify-delivery-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sender is not None:
            await self._sender.aclose()
            self._sender = None

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("delivery batch failed; retrying after the poll interval")
                sent = 0
            if sent < self._settings.delivery_batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._settings.delivery_poll_seconds)
                self._wake.clear()

    async def run_once(self) -> int:
        """Send one batch of due deliveries; returns how many were handled."""
        service = self._service
        async with service.runtime.transaction() as conn:
            rows = await repo.claim_due(conn, service.now(), self._settings.delivery_batch)
            if self._sender is None:
                for row in rows:
                    await service.skip(conn, row, NO_RECEIVER)
                return len(rows)
            outcomes = await asyncio.gather(*(self._send(row) for row in rows))
            for row, outcome in zip(rows, outcomes, strict=True):
                await service.record_outcome(conn, row, outcome, self._retry_in(row, outcome))
        return len(rows)

    async def _send(self, row: dict[str, Any]) -> Outcome:
        assert self._sender is not None
        body = json.dumps(row["payload"], ensure_ascii=False, sort_keys=True).encode()
        outcome = await self._sender.send(str(row["delivery_id"]), body, self._service.now())
        if outcome.verdict != "delivered":
            log.warning(
                "delivery attempt failed",
                extra={"delivery_id": str(row["delivery_id"]), "detail": outcome.detail},
            )
        return outcome

    def _retry_in(self, row: dict[str, Any], outcome: Outcome) -> timedelta:
        s = self._settings
        if outcome.retry_after is not None:
            return timedelta(seconds=min(outcome.retry_after, s.retry_after_max_seconds))
        delay = backoff_seconds(
            row["attempts"] + 1, s.backoff_base_seconds, s.backoff_max_seconds, self._jitter()
        )
        return timedelta(seconds=delay)
