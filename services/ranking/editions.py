"""Use cases for editions of the red and black lists (红黑榜, R4.1, R7)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

from services.contracts.ranking import EditionPublished, RatesPublished
from services.runtime.heap import collector_paused
from services.runtime.http import DomainConflict
from services.runtime.service import ServiceRuntime

from . import metrics, store
from .cutoff_inputs import directory_and_scores, rates_at
from .domain.canonical import canonical_json, canonical_members, joined_members
from .domain.edition import EditionContent, rank_edition
from .domain.payload import content_payload, edition_payload, instant_text, members_digest
from .domain.rate_report import rate_report_of
from .domain.rates import UnitRate
from .domain.rules import RankingRules
from .domain.scores import AssessmentScore
from .domain.units import UnitFact
from .edition_messages import check_edition, edition_envelope, rates_message
from .progress import behind, wait_caught_up
from .projection import input_positions

log = logging.getLogger(__name__)
_PUBLISH_LOCK = 0x52414E4B  # serialises publication across replicas ("RANK")
CATCH_UP_SECONDS = 10.0


class FutureCutoff(ValueError):
    """R4.1: an edition is published only once its cutoff has passed (HTTP 422); events up to
    a future cutoff can still arrive, and its first revision would settle a pool (R6.2)."""

    def __init__(self, cutoff: datetime, now: datetime) -> None:
        super().__init__(
            f"the cutoff {instant_text(cutoff)} is in the future (now {instant_text(now)}):"
            " an edition can be published only once its cutoff has passed; a preview of a"
            " future cutoff is allowed"
        )


class ProjectionBehind(DomainConflict):
    """The projection has not applied its input streams up to their last sequences (HTTP 409):
    an edition from a partial projection would be wrong, and its first revision fixes the
    edition's pool (R6.2)."""

    def __init__(
        self, ends: dict[str, int], missing: dict[str, int], waited: float, forceable: bool
    ) -> None:
        where = ", ".join(
            f"{stream} at #{ends[stream] - n} of #{ends[stream]}" for stream, n in missing.items()
        )
        hint = (
            ' The office can publish from what has been applied with "force": true.'
            if forceable
            else ""
        )
        super().__init__(
            f"the projection is behind its input streams ({where}) after waiting {waited:g} s;"
            " it is catching up, or a message was dead-lettered after max_deliver (see"
            f" dlq.ranking) and holds the position back until it is replayed.{hint}",
            behind=missing,
            stream_ends=ends,
        )
        self.ends, self.missing = ends, missing


class Inputs(NamedTuple):
    """What `EditionsService._inputs` read (R7: all of it up to ``positions``)."""

    positions: dict[str, int]
    units: list[UnitFact]
    scores: list[AssessmentScore]
    rates: dict[str, UnitRate]


@dataclass
class EditionsService:
    """Computes, previews and publishes editions; numbers and revisions per R4.1."""

    runtime: ServiceRuntime
    rules: RankingRules
    tz: ZoneInfo
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], UUID] = uuid.uuid4
    # How long publish and preview wait for the projection to reach the streams' ends.
    catch_up_seconds: float = CATCH_UP_SECONDS
    _publishing: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def _inputs(self, at: datetime) -> Inputs:
        """Everything an edition or a rate report at ``at`` is computed from: the input
        positions, read first, and the unit directory, scores and rate counts up to them.

        The directory and the counts are read on two connections at once: the database counts
        a million issues while the directory is folded here. Both read only facts up to the
        positions, which later batches never change (facts are append-only and the counts are
        one statement, `cutoff_inputs.rates_at`), so the two reads agree. Each read borrows its
        own connection and gives it back: nothing waits for a second connection while holding
        one (see `_publish` for the one that does)."""
        pool = self.runtime.pool
        async with pool.connection() as conn:
            positions = await input_positions(conn)

        async def directory() -> tuple[list[UnitFact], list[AssessmentScore]]:
            async with pool.connection() as conn:
                return await directory_and_scores(conn, positions, at)

        async def counts() -> dict[str, UnitRate]:
            async with pool.connection() as conn:
                return await rates_at(conn, positions, at)

        (units, scores), rates = await asyncio.gather(directory(), counts())
        return Inputs(positions, units, scores, rates)

    async def _compute(self, cutoff: datetime) -> tuple[EditionContent, dict[str, int]]:
        inputs = await self._inputs(cutoff)
        content = rank_edition(
            cutoff=cutoff,
            rules=self.rules,
            tz=self.tz,
            unit_facts=inputs.units,
            rates=inputs.rates,
            scores=inputs.scores,
        )
        return content, inputs.positions

    async def preview(self, cutoff: datetime) -> dict[str, Any]:
        """R4.1 dry run: the edition as it would be published now, without publishing it.

        It waits (bounded) for the projection like `publish`, but answers anyway: ``caught_up``
        false with ``behind`` per stream when it is computed from a partial projection, and
        ``cutoff_in_future`` true (with a note) when the cutoff has not passed yet, so that
        events up to it can still change it and it cannot be published yet."""
        ends, _ = await wait_caught_up(self.runtime, self.catch_up_seconds)
        with collector_paused():  # ~10^6 short-lived objects at 10,000 units (runtime.heap)
            content, positions = await self._compute(cutoff)
            result = {**content_payload(content), "input_positions": positions, "preview": True}
        missing = behind(ends, positions)
        result["caught_up"] = not missing
        if missing:
            result["behind"] = missing
        result["cutoff_in_future"] = future = cutoff > self.now()
        if future:
            result["note"] = (
                "provisional: the cutoff is in the future, so later events can still change"
                " this edition; it can be published only once the cutoff has passed"
            )
        return result

    async def rates(self, at: datetime) -> dict[str, Any]:
        """R3: every unit's rates as of ``at``, from the facts applied so far."""
        with collector_paused():
            inputs = await self._inputs(at)
            report = rate_report_of(at, inputs.units, inputs.rates)
        return {**report, "input_positions": inputs.positions}

    async def publish(
        self, cutoff: datetime, *, scheduled: bool = False, force: bool = False
    ) -> dict[str, Any]:
        """R4.1: publish the edition for ``cutoff``; the same content twice is the same
        edition, different content is a new revision of the same number.

        A cutoff in the future is refused (`FutureCutoff`). The streams' last sequences are
        read first; then the projection has up to ``catch_up_seconds`` to reach them, else
        `ProjectionBehind` (R6.2: the first revision fixes the pool). ``force`` (the office's
        override, e.g. when a dead-lettered message holds a position back) publishes from what
        has been applied without waiting; the answer then records ``forced`` and ``behind``.

        ``scheduled``: the weekly schedule publishes each cutoff once (whichever replica comes
        first); it never revises an edition the office or another replica already published."""
        now = self.now()
        if cutoff > now:
            raise FutureCutoff(cutoff, now)
        if scheduled and await self._published(cutoff):
            return await self._publish(cutoff, scheduled)  # records the schedule as done
        waited = 0.0 if force else self.catch_up_seconds
        ends, missing = await wait_caught_up(self.runtime, waited)
        if missing and not force:
            metrics.HELD_BACK_TOTAL.labels("scheduled" if scheduled else "on_demand").inc()
            raise ProjectionBehind(ends, missing, waited, forceable=not scheduled)
        result = await self._publish(cutoff, scheduled)
        if force:
            left_out = behind(ends, result.get("input_positions", {}))
            result = {**result, "forced": True, "behind": left_out}
            if left_out and result.get("created"):
                metrics.FORCED_TOTAL.inc()
                log.warning(
                    "edition published with force from a projection behind its streams",
                    extra={"cutoff": instant_text(cutoff), "behind": left_out},
                )
        return result

    async def _published(self, cutoff: datetime) -> bool:
        async with self.runtime.pool.connection() as conn:
            return await store.latest_for_cutoff(conn, cutoff) is not None

    async def _publish(self, cutoff: datetime, scheduled: bool) -> dict[str, Any]:
        # One publication at a time in this process (replicas are serialised by the advisory
        # lock): it holds its transaction's connection while `_compute` borrows two more, and
        # many of them at once could hold every connection of the pool while waiting for more.
        async with self._publishing:
            with collector_paused():  # ~10^6 short-lived objects at 10,000 units (runtime.heap)
                return await self._publish_locked(cutoff, scheduled)

    async def _publish_locked(self, cutoff: datetime, scheduled: bool) -> dict[str, Any]:
        async with self.runtime.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PUBLISH_LOCK,))
            latest = await store.latest_for_cutoff(conn, cutoff)
            if scheduled and latest is not None:
                await store.claim_scheduled(conn, cutoff, latest["year"], latest["number"])
                return _stored(latest)
            content, positions = await self._compute(cutoff)
            if scheduled and not any(part.rows for part in content.categories):
                return {"created": False, "skipped": "nothing would be ranked at this cutoff"}
            computed = content_payload(content)  # once: ~10^6 values at 10,000 units
            members = canonical_members(computed)  # and serialised once, for both uses below
            digest = members_digest(members)
            if latest is not None and latest["digest"] == digest:
                return _stored(latest)
            if latest is not None:
                number, revision = latest["number"], latest["revision"] + 1
            else:
                number, revision = await store.next_number(conn, content.year), 1
            published_at = self.now()
            body = edition_payload(computed, number, revision, positions, published_at)
            message = edition_envelope(self.new_id(), content.year, number, revision, published_at)
            message.update(body)
            check_edition(message)  # or nothing is saved
            # The content keys of `message` hold the very values serialised in `members`
            # (edition_payload and the envelope never set one), so this is its canonical_json.
            envelope = {k: v for k, v in message.items() if k not in members}
            payload = joined_members(members | canonical_members(envelope))
            await store.save_edition(conn, message, payload, digest)
            if scheduled:
                await store.claim_scheduled(conn, cutoff, content.year, number)
            runtime = self.runtime
            await runtime.commit_raw(
                conn, UUID(message["event_id"]), EditionPublished.SUBJECT, payload
            )
            rates = rates_message(message, self.new_id(), published_at)
            await runtime.commit_raw(
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
