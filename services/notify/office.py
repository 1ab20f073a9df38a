"""What the office does in notify: manage recipients (HTTP, CSV), record talks (R5.3) and
resend notifications. One transaction per use case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from services.runtime.db import Conn
from services.runtime.http import DomainConflict, NotFound

from . import recipients
from . import repository as repo
from .domain.talks import Talk, TalkStatus, TalkTransitionError, hold, schedule
from .recipients import RecipientIn
from .use_cases import NotifyService


async def _load_talk(conn: Conn, talk_id: UUID) -> Talk:
    cur = await conn.execute(
        "SELECT status, scheduled_for, held_on, minutes FROM talks WHERE talk_id = %s FOR UPDATE",
        (talk_id,),
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"no talk {talk_id}")
    return Talk(
        status=TalkStatus(row["status"]),
        scheduled_for=row["scheduled_for"],
        held_on=row["held_on"],
        minutes=row["minutes"],
    )


async def _save_talk(
    conn: Conn, talk_id: UUID, talk: Talk, service: NotifyService
) -> dict[str, Any]:
    cur = await conn.execute(
        "UPDATE talks SET status = %s, scheduled_for = %s, held_on = %s, minutes = %s,"
        " updated_at = %s WHERE talk_id = %s RETURNING talk_id, unit_id, year, number, k, level,"
        " status, scheduled_for, held_on, minutes, updated_at",
        (str(talk.status), talk.scheduled_for, talk.held_on, talk.minutes, service.now(), talk_id),
    )
    row = await cur.fetchone()
    assert row is not None
    return row


@dataclass
class Office:
    service: NotifyService

    async def put_recipient(self, key: str, body: RecipientIn) -> None:
        async with self.service.runtime.transaction() as conn:
            await recipients.save(conn, key, body, self.service.now())

    async def import_recipients(self, text: str) -> int:
        """CSV import: every line is checked first, then all recipients are saved at once."""
        parsed = recipients.parse_csv(text)
        async with self.service.runtime.transaction() as conn:
            for key, body in parsed.items():
                await recipients.save(conn, key, body, self.service.now())
        return len(parsed)

    async def list_recipients(self) -> list[dict[str, Any]]:
        async with self.service.runtime.pool.connection() as conn:
            return await recipients.list_all(conn)

    async def schedule_talk(self, talk_id: UUID, on: date) -> dict[str, Any]:
        """R5.3: ordered → scheduled for ``on``."""
        async with self.service.runtime.transaction() as conn:
            talk = await _load_talk(conn, talk_id)
            try:
                changed = schedule(talk, on)
            except TalkTransitionError as exc:
                raise DomainConflict(str(exc)) from None
            return await _save_talk(conn, talk_id, changed, self.service)

    async def hold_talk(self, talk_id: UUID, on: date, minutes: str) -> dict[str, Any]:
        """R5.3: scheduled → held on ``on``, with its minutes."""
        async with self.service.runtime.transaction() as conn:
            talk = await _load_talk(conn, talk_id)
            try:
                changed = hold(talk, on, minutes)
            except TalkTransitionError as exc:
                raise DomainConflict(str(exc)) from None
            return await _save_talk(conn, talk_id, changed, self.service)

    async def resend(self, delivery_id: UUID) -> dict[str, Any]:
        """Send a notification again, as a new attempt chain (a pending one is left alone);
        the delivery worker is woken when it commits."""
        service = self.service
        async with service.runtime.transaction() as conn:
            row = await repo.resend(conn, delivery_id, service.now())
            if row is not None:
                service.runtime.after_commit(conn, service.on_planned)
                return row
            if await repo.delivery_exists(conn, delivery_id):
                raise DomainConflict("the notification is still pending")
            raise NotFound(f"no notification {delivery_id}")
