"""Use cases for editions of the red and black lists (红黑榜, R4.1, R7)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from services.contracts.ranking import EditionPublished, RatesPublished
from services.runtime.db import Conn
from services.runtime.outbox import stage_raw
from services.runtime.service import ServiceRuntime

from .domain.canonical import canonical_json
from .domain.edition import EditionContent, compute_edition
from .domain.payload import content_payload, edition_payload, instant_text, payload_digest
from .domain.rules import RankingRules
from .projection import input_positions, load_facts

PRODUCER = "ranking"
_PUBLISH_LOCK = 0x52414E4B  # serialises publication across replicas ("RANK")


@dataclass
class EditionsService:
    """Computes, previews and publishes editions; numbers and revisions per R4.1."""

    runtime: ServiceRuntime
    rules: RankingRules
    tz: ZoneInfo
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], UUID] = uuid.uuid4

    async def _compute(self, conn: Conn, cutoff: datetime) -> tuple[EditionContent, dict[str, int]]:
        positions = await input_positions(conn)
        units, issues, scores = await load_facts(conn, positions)
        content = compute_edition(
            cutoff=cutoff,
            rules=self.rules,
            tz=self.tz,
            unit_facts=units,
            issue_facts=issues,
            scores=scores,
        )
        return content, positions

    async def preview(self, cutoff: datetime) -> dict[str, Any]:
        """R4.1 dry run: the edition as it would be published now, without publishing it."""
        async with self.runtime.pool.connection() as conn:
            content, positions = await self._compute(conn, cutoff)
        return {**content_payload(content), "input_positions": positions, "preview": True}

    async def publish(self, cutoff: datetime) -> dict[str, Any]:
        """R4.1: publish the edition for ``cutoff``; the same content twice is the same
        edition, different content is a new revision of the same number."""
        async with self.runtime.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PUBLISH_LOCK,))
            content, positions = await self._compute(conn, cutoff)
            digest = payload_digest(content_payload(content))
            latest = await _latest_revision(conn, cutoff)
            if latest is not None and latest["digest"] == digest:
                return _stored(latest)
            if latest is not None:
                number, revision = latest["number"], latest["revision"] + 1
            else:
                number, revision = await _next_number(conn, content.year), 1
            published_at = self.now()
            event_id = self.new_id()
            body = edition_payload(content, number, revision, positions, published_at)
            envelope = {
                "event_id": str(event_id),
                "type": EditionPublished.SUBJECT,
                "schema": 1,
                "occurred_at": instant_text(published_at),
                "producer": PRODUCER,
                "aggregate_id": f"edition-{content.year}-{number}",
                "aggregate_version": revision,
            }
            message = {**envelope, **body}
            EditionPublished.model_validate(message)  # the contract holds, or nothing is saved
            payload = canonical_json(message)
            await conn.execute(
                "INSERT INTO editions (year, number, revision, cutoff, digest, event_id,"
                " published_at, payload) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                (content.year, number, revision, cutoff, digest, event_id, published_at, payload),
            )
            await stage_raw(conn, event_id, EditionPublished.SUBJECT, payload)
            rates = _rates_message(message, self.new_id(), published_at)
            await stage_raw(
                conn, UUID(rates["event_id"]), RatesPublished.SUBJECT, canonical_json(rates)
            )
        return {**message, "created": True}

    async def latest(self) -> dict[str, Any] | None:
        async with self.runtime.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM editions ORDER BY published_at DESC, revision DESC LIMIT 1"
            )
            row = await cur.fetchone()
        return None if row is None else _stored(row)

    async def get(self, year: int, number: int) -> dict[str, Any] | None:
        async with self.runtime.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM editions WHERE year = %s AND number = %s"
                " ORDER BY revision DESC LIMIT 1",
                (year, number),
            )
            row = await cur.fetchone()
        return None if row is None else _stored(row)


async def _latest_revision(conn: Conn, cutoff: datetime) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT * FROM editions WHERE cutoff = %s ORDER BY revision DESC LIMIT 1", (cutoff,)
    )
    return await cur.fetchone()


async def _next_number(conn: Conn, year: int) -> int:
    """R4.1: sequential within the campaign year, in order of first publication."""
    cur = await conn.execute(
        "SELECT COALESCE(MAX(number), 0) + 1 AS next FROM editions WHERE year = %s", (year,)
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["next"])


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    return {**json.loads(bytes(row["payload"])), "created": False}


def _rates_message(edition: dict[str, Any], event_id: UUID, at: datetime) -> dict[str, Any]:
    """R3.5: the weekly rate report for every ranked unit, from the edition's rows."""
    units = []
    for category, board in edition["categories"].items():
        for row in board["rows"]:
            units.append(
                {
                    "unit_id": row["unit_id"],
                    "name": row["name"],
                    "category": category,
                    "rank": row["rank"],
                    **{
                        k: row[k]
                        for k in (
                            "reported",
                            "rectified",
                            "rate",
                            "overdue",
                            "rework",
                            "on_time",
                            "on_time_rate",
                        )
                    },
                }
            )
    message = {
        "event_id": str(event_id),
        "type": RatesPublished.SUBJECT,
        "schema": 1,
        "occurred_at": instant_text(at),
        "producer": PRODUCER,
        "aggregate_id": edition["aggregate_id"],
        "aggregate_version": edition["revision"],
        "year": edition["year"],
        "number": edition["number"],
        "revision": edition["revision"],
        "cutoff": edition["cutoff"],
        "rule_version": edition["rule_version"],
        "units": units,
    }
    RatesPublished.model_validate(message)
    return message
