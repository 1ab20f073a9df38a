"""One function per use case: load, decide (pure domain), save state + outbox in one
transaction (STYLE.md 3)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from faststream.nats import NatsMessage

from services.contracts import notify as wire
from services.contracts.base import to_wire
from services.contracts.dead_letter import DeadLetter
from services.contracts.envelope import Event
from services.contracts.ranking import EditionPublished
from services.contracts.streams import dead_letter_subject
from services.runtime.db import Conn
from services.runtime.failures import NotReady
from services.runtime.service import ServiceRuntime

from . import recipients
from . import repository as repo
from .delivery import Outcome, Verdict
from .domain.escalation import waits_for
from .domain.notices import NoticeType, PlannedNotice, notices_for_edition
from .editions import edition_summary, unit_names
from .texts import notice_body

PRODUCER = "notify"
CONSUMER = "notify-edition-published"
DEFAULT_CHANNEL = "webhook"  # NOTIFY_WEBHOOK_URL: every notice, whoever the recipient
NO_RECEIVER = "no webhook receiver configured (NOTIFY_WEBHOOK_URL)"


@dataclass
class NotifyService:
    """The notify service's use cases; the clock and id source are injected for tests."""

    runtime: ServiceRuntime
    max_attempts: int
    # NOTIFY_WEBHOOK_URL is set: the default channel's copies are sent, not recorded skipped.
    default_webhook: bool = True
    # Called after a commit that planned deliveries to send (the delivery worker's poke).
    on_planned: Callable[[], None] = lambda: None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], UUID] = uuid.uuid4

    async def plan_edition(self, event: EditionPublished, msg: NatsMessage) -> bool:
        """R5.2/R5.3: plan every notice of one edition revision, once; False for a duplicate."""
        return await self.runtime.apply_once(
            CONSUMER, event, msg, lambda conn: self._plan(conn, event)
        )

    async def _plan(self, conn: Conn, event: EditionPublished) -> None:
        at = self.now()
        summary = edition_summary(event)
        names = unit_names(event)
        state = await repo.load_escalation(conn)
        earlier = waits_for(state, summary.key)
        if earlier is not None:  # R5.3; a batch is handled concurrently, so n may come first
            raise NotReady(f"edition {earlier} has not been planned yet", 5.0)
        notices, new_state = notices_for_edition(summary, state)
        if new_state is state:  # R5.3: not newer than the revision already applied
            return
        listing = new_state.latest(summary.key)
        assert listing is not None
        await repo.save_listing(conn, listing)
        await repo.save_streaks(conn, new_state)
        for notice in notices:
            unit_id = notice.recipient.unit_id
            if notice.type is NoticeType.TALK:
                k = int(dict(notice.key_numbers)["consecutive_black"])
                await repo.order_talk(conn, notice, k, at)
            elif notice.type is NoticeType.CORRECTION and notice.talk_level is not None:
                assert unit_id is not None
                assert notice.edition is not None
                await repo.cancel_talk(conn, unit_id, notice.edition, at)
        await self.plan_notices(conn, event.event_id, notices, names)

    async def plan_notices(
        self,
        conn: Conn,
        event_id: UUID,
        notices: list[PlannedNotice],
        fallback_names: dict[str, str] | None = None,
    ) -> None:
        """The notices one event plans (see `plan_many`)."""
        await self.plan_many(conn, [(event_id, notices)], fallback_names)

    async def plan_many(
        self,
        conn: Conn,
        planned: Sequence[tuple[UUID, list[PlannedNotice]]],
        fallback_names: dict[str, str] | None = None,
    ) -> None:
        """One delivery per (notice, channel): the default webhook and each channel of the
        recipient. The (notice key, channel) pair is unique, so a notice planned again from a
        redelivered event is not sent again (R5). ``planned``: (event id, its notices).

        Without a default webhook its copies are recorded skipped at once, with the message they
        would have carried: the office still lists every notice, and the delivery worker is not
        woken to skip them one batch at a time."""
        if not planned:
            return
        at = self.now()
        keys = sorted({str(n.recipient) for _, notices in planned for n in notices})
        channels = await recipients.channels_of(conn, keys)
        names = await recipients.names_of(conn, keys)
        rows: list[repo.PlannedDelivery] = []
        for event_id, notices in planned:
            for notice in notices:
                unit_id = notice.recipient.unit_id
                name = names.get(str(notice.recipient)) or (fallback_names or {}).get(unit_id or "")
                for channel in [DEFAULT_CHANNEL, *channels.get(str(notice.recipient), [])]:
                    delivery_id = self.new_id()
                    payload = notice_body(notice, delivery_id, name)
                    unsent = channel == DEFAULT_CHANNEL and not self.default_webhook
                    rows.append(
                        repo.PlannedDelivery(
                            delivery_id,
                            event_id,
                            notice,
                            channel,
                            payload,
                            skipped=NO_RECEIVER if unsent else None,
                        )
                    )
        await repo.plan_deliveries(conn, rows, at)
        if any(row.skipped is None for row in rows):
            self.runtime.after_commit(conn, self.on_planned)

    async def record_outcome(
        self,
        conn: Conn,
        row: dict[str, Any],
        outcome: Outcome,
        retry_in: timedelta,
        pace_key: str | None = None,
    ) -> None:
        """One attempt's result, in the caller's transaction: delivered, retried later or
        failed for good, with ``notify.v1.delivered``/``failed`` staged beside the status.
        ``pace_key`` names the robot the attempt went to (its rate limit's send log)."""
        at = self.now()
        attempt, chain_attempt = row["attempts"] + 1, row["chain_attempts"] + 1
        if outcome.verdict is Verdict.RETRY and chain_attempt < self.max_attempts:
            status = "pending"
        elif outcome.verdict is Verdict.DELIVERED:
            status = "delivered"
        else:
            status = "failed"
        await repo.record_attempt(
            conn,
            row["delivery_id"],
            channel=row["channel"],
            attempt=attempt,
            chain_attempt=chain_attempt,
            at=at,
            status=status,
            outcome=str(outcome.verdict),
            status_code=outcome.status_code,
            detail=outcome.detail,
            next_attempt_at=at + retry_in if status == "pending" else at,
            pace_key=pace_key,
        )
        if status == "failed":  # R5: given up: notify.v1.failed and a dead letter
            await repo.dead_letter(conn, row, chain_attempt, outcome.detail, at)
            await self._stage_dead_letter(conn, row, chain_attempt, outcome.detail, at)
        if status != "pending":
            event = self._final_event(row, status, chain_attempt, outcome, at)
            await self.runtime.commit(conn, [event])

    async def _stage_dead_letter(
        self, conn: Conn, row: dict[str, Any], attempts: int, reason: str, at: datetime
    ) -> None:
        """The same dead letter on ``dlq.notify`` (ARCHITECTURE.md "Failures"), through the
        outbox in this transaction, so ops list and replay it like every other one."""
        letter = DeadLetter(
            service=PRODUCER,
            original_subject=f"notify.delivery.{row['channel']}",
            payload=json.dumps(
                {
                    "notification_id": str(row["delivery_id"]),
                    "notice_type": row["notice_type"],
                    "recipient": row["recipient"],
                    "channel": row["channel"],
                },
                ensure_ascii=False,
                sort_keys=True,
            ),
            payload_encoding="utf-8",
            stream=None,
            stream_sequence=None,
            delivery_count=attempts,
            reason=f"delivery failed {attempts} times: {reason}"[:1000] or "delivery failed",
            failed_at=at,
        )
        await self.runtime.commit_raw(
            conn, self.new_id(), dead_letter_subject(PRODUCER), to_wire(letter)
        )

    async def skip(self, conn: Conn, rows: list[dict[str, Any]], reason: str) -> None:
        """No receiver (or no longer the channel): the notices are kept, marked skipped."""
        await repo.mark_skipped(conn, [row["delivery_id"] for row in rows], reason, self.now())

    def _final_event(
        self, row: dict[str, Any], status: str, attempts: int, outcome: Outcome, at: datetime
    ) -> Event:
        fields: dict[str, Any] = {
            "event_id": self.new_id(),
            "occurred_at": at,
            "producer": PRODUCER,
            "aggregate_id": str(row["delivery_id"]),
            "aggregate_version": row["resends"] + 1,
            "notification_id": row["delivery_id"],
            "notice_type": row["notice_type"],
            "recipient": row["recipient"],
            "channel": row["channel"],
            "attempts": attempts,
        }
        if status == "delivered":
            return wire.Delivered(**fields)
        return wire.Failed(**fields, reason=outcome.detail[:1000])
