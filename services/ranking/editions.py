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

from . import store
from .domain.canonical import canonical_json
from .domain.edition import EditionContent, compute_edition
from .domain.payload import content_payload, edition_payload, instant_text, payload_digest
from .domain.rate_report import rate_report
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

    async def rates(self, at: datetime) -> dict[str, Any]:
        """R3: every unit's rates as of ``at``, from the facts applied so far."""
        async with self.runtime.pool.connection() as conn:
            positions = await input_positions(conn)
            units, issues, _ = await load_facts(conn, positions)
        return {**rate_report(at, units, issues), "input_positions": positions}

    async def publish(self, cutoff: datetime, *, scheduled: bool = False) -> dict[str, Any]:
        """R4.1: publish the edition for ``cutoff``; the same content twice is the same
        edition, different content is a new revision of the same number.

        ``scheduled``: the weekly schedule publishes each cutoff once (whichever replica comes
        first); it never revises an edition the office or another replica already published."""
        async with self.runtime.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PUBLISH_LOCK,))
            latest = await store.latest_for_cutoff(conn, cutoff)
            if scheduled and latest is not None:
                await store.claim_scheduled(conn, cutoff, latest["year"], latest["number"])
                return _stored(latest)
            content, positions = await self._compute(conn, cutoff)
            if scheduled and not any(part.rows for part in content.categories):
                return {"created": False, "skipped": "nothing would be ranked at this cutoff"}
            digest = payload_digest(content_payload(content))
            if latest is not None and latest["digest"] == digest:
                return _stored(latest)
            if latest is not None:
                number, revision = latest["number"], latest["revision"] + 1
            else:
                number, revision = await store.next_number(conn, content.year), 1
            published_at = self.now()
            body = edition_payload(content, number, revision, positions, published_at)
            message = {**_envelope(self.new_id(), content.year, number, revision, published_at)}
            message.update(body)
            EditionPublished.model_validate(message)  # the contract holds, or nothing is saved
            payload = canonical_json(message)
            await store.save_edition(conn, message, payload)
            if scheduled:
                await store.claim_scheduled(conn, cutoff, content.year, number)
            await stage_raw(conn, UUID(message["event_id"]), EditionPublished.SUBJECT, payload)
            rates = _rates_message(message, self.new_id(), published_at)
            await stage_raw(
                conn, UUID(rates["event_id"]), RatesPublished.SUBJECT, canonical_json(rates)
            )
        return {**message, "created": True}

    async def latest(self) -> dict[str, Any] | None:
        async with self.runtime.pool.connection() as conn:
            return await store.latest_edition(conn)

    async def get(
        self, year: int, number: int, revision: int | None = None
    ) -> dict[str, Any] | None:
        async with self.runtime.pool.connection() as conn:
            return await store.edition(conn, year, number, revision)

    async def unit_history(self, unit_id: str) -> dict[str, Any]:
        """The unit's rate, score, rank and list in each edition (latest revisions)."""
        async with self.runtime.pool.connection() as conn:
            rows = await store.unit_history(conn, unit_id)
        return {"unit_id": unit_id, "editions": [unit_history_entry(r) for r in rows]}


def _envelope(
    event_id: UUID, year: int, number: int, revision: int, at: datetime
) -> dict[str, Any]:
    return {
        "event_id": str(event_id),
        "type": EditionPublished.SUBJECT,
        "schema": 1,
        "occurred_at": instant_text(at),
        "producer": PRODUCER,
        "aggregate_id": f"edition-{year}-{number}",
        "aggregate_version": revision,
    }


def unit_history_entry(row: dict[str, Any]) -> dict[str, Any]:
    """One edition of a unit's history: where it stood and on which list."""
    ranked = row["row"]
    return {
        "year": row["year"],
        "number": row["number"],
        "revision": row["revision"],
        "cutoff": instant_text(row["cutoff"]),
        "rule_version": row["rule_version"],
        "category": row["category"],
        "list": row["listed"],
        **{k: ranked[k] for k in ("rank", "bottom_rank", "composite", "rate", "score")},
        **{k: ranked[k] for k in ("reported", "rectified", "overdue", "rework", "on_time")},
    }


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
