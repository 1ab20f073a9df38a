"""The delivery worker: an asyncio task that plans due reminders (R5.1), sends due notices and
records each outcome (R5).

Each batch is claimed with ``FOR UPDATE SKIP LOCKED`` and sent while the rows stay locked, so
replicas never send the same row at once; the outcome, the next attempt and the
``notify.v1.*`` event commit together. A crash mid-batch rolls back and the batch is sent again
(at-least-once; receivers deduplicate on ``webhook-id``, the same on every retry).

Robots are paced (R5: 20 messages a minute each): per robot (``pace_key``: its URL, so two
recipients' channels sharing one robot share its limit), under an advisory lock, the rate
limiter reads the robot's send log; what may not go now is queued for the instant it may,
without spending an attempt.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from services.runtime.background import Loop

from . import repository as repo
from .channels import Sender, Target, redact_url
from .delivery import Outcome, Verdict, backoff_seconds
from .domain.rate_limit import RateLimit, pace
from .domain.robots import pace_key
from .settings import NotifySettings
from .triggers import Triggers
from .use_cases import DEFAULT_CHANNEL, NO_RECEIVER, NotifyService

log = logging.getLogger(__name__)
NO_CHANNEL = "the recipient's channel was removed"


class DeliveryWorker:
    """Started and stopped by the app's lifespan, after and before the runtime."""

    def __init__(
        self,
        service: NotifyService,
        settings: NotifySettings,
        jitter: Callable[[], float] = random.random,  # spreading, not secrecy
    ) -> None:
        self._service = service
        self._triggers = Triggers(service)
        self._settings = settings
        self._jitter = jitter
        self._limit = RateLimit(
            settings.robot_rate_limit, timedelta(seconds=settings.robot_rate_window_seconds)
        )
        self.sender: Sender | None = None
        self._loop = Loop(
            "notify-delivery-worker",
            self._step,
            settings.delivery_poll_seconds,
            failure="delivery batch failed; retrying after the poll interval",
        )

    def poke(self) -> None:
        """Look for due deliveries now: notices were just planned."""
        self._loop.poke()

    def start(self) -> None:
        s = self._settings
        self.sender = Sender(s.delivery_timeout_seconds, s.allow_private_targets, s.allowed_hosts)
        # What ops need to see, and no more: the secret prints as its redaction marker.
        log.info(
            "delivery worker started",
            extra={
                "webhook_url": redact_url(s.webhook_url) if s.webhook_url else None,
                "webhook_secret": str(s.webhook_secret) if s.webhook_secret else None,
            },
        )
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        if self.sender is not None:
            await self.sender.aclose()
            self.sender = None

    async def _step(self) -> float | None:
        # Two chores, each on its own: a reminder that cannot be planned (a bad tracked issue)
        # must not stop deliveries.
        try:
            await self._triggers.remind_due(self._settings.reminder_batch)
        except Exception:
            log.exception("planning reminders failed; retrying after the poll interval")
        sent = await self.run_once()
        return 0 if sent >= self._settings.delivery_batch else None

    async def run_once(self) -> int:
        """Send one batch of due deliveries; returns how many were handled."""
        service = self._service
        async with service.runtime.transaction() as conn:
            now = service.now()
            rows = await repo.claim_due(conn, now, self._settings.delivery_batch)
            ready: list[tuple[dict[str, Any], Target]] = []
            by_channel: dict[str, list[dict[str, Any]]] = {}
            # R5: a robot takes 20 a minute however many channels (recipients) share its URL,
            # so robots are paced per robot, not per channel.
            by_robot: dict[str, list[tuple[dict[str, Any], Target]]] = {}
            for row in rows:
                by_channel.setdefault(row["channel"], []).append(row)
            for channel, queued in by_channel.items():
                target = self._target(queued[0])
                if target is None:
                    reason = NO_RECEIVER if channel == DEFAULT_CHANNEL else NO_CHANNEL
                    await service.skip(conn, queued, reason)
                elif target.is_robot:
                    by_robot.setdefault(pace_key(target.url), []).extend(
                        (row, target) for row in queued
                    )
                else:
                    ready += [(row, target) for row in queued]
            for key, paced in by_robot.items():
                if not await repo.lock_robot(conn, key):
                    continue  # another replica is sending to this robot right now
                since = now - self._limit.window
                times = pace(await repo.send_log(conn, key, since), len(paced), now, self._limit)
                for (row, _), at in zip(paced, times, strict=True):
                    if at > now:
                        await repo.postpone(conn, row["delivery_id"], at)
                ready += [sent for sent, at in zip(paced, times, strict=True) if at <= now]
            outcomes = await asyncio.gather(*(self._send(row, t) for row, t in ready))
            for (row, target), outcome in zip(ready, outcomes, strict=True):
                robot = pace_key(target.url) if target.is_robot else None
                retry_in = self._retry_in(row, outcome)
                await service.record_outcome(conn, row, outcome, retry_in, robot)
        return len(rows)

    def _target(self, row: dict[str, Any]) -> Target | None:
        s = self._settings
        if row["channel"] == DEFAULT_CHANNEL:
            if s.webhook_url is None:
                return None
            return Target(DEFAULT_CHANNEL, "webhook", s.webhook_url, s.webhook_secret)
        if row["kind"] is None:
            return None
        secret = None if row["secret"] is None else SecretStr(row["secret"])
        return Target(row["channel"], row["kind"], row["url"], secret)

    async def _send(self, row: dict[str, Any], target: Target) -> Outcome:
        """One attempt; never raises (but for cancellation): an unexpected error is this row's
        outcome, retried later, so it cannot roll back the batch and resend every other row
        that was already delivered."""
        assert self.sender is not None
        # A resend is a new message to the receiver: it gets a webhook-id of its own.
        msg_id = str(row["delivery_id"])
        if row["resends"]:
            msg_id += f".{row['resends']}"
        try:
            outcome = await self.sender.send(target, msg_id, row["payload"], self._service.now())
        except Exception as exc:
            # Only the type: a message or traceback could carry a robot key (channels.py).
            detail = f"unexpected error: {type(exc).__name__}"
            log.error(
                "delivery attempt raised; it will be retried",
                extra={"delivery_id": str(row["delivery_id"]), "detail": detail},
            )
            return Outcome(Verdict.RETRY, None, detail)
        if outcome.verdict is not Verdict.DELIVERED:
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
            row["chain_attempts"] + 1, s.backoff_base_seconds, s.backoff_max_seconds, self._jitter()
        )
        return timedelta(seconds=delay)
