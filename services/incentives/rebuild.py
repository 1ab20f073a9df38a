"""``python -m services.incentives.rebuild``: rebuild the incentives ledger from the event log and
prove that it is the ledger the service published (R6, R7).

1. Stop the incentives service first. The command refuses while the outbox holds unpublished
   events (they are not on the stream yet: they would be lost, and the comparison incomplete).
2. Read every ``ranking.v1.edition_published`` on ``RANKING`` and every
   ``incentives.v1.allocated`` on ``INCENTIVES`` (before anything is dropped: a stream that
   stops answering leaves the schema as it was, exit 2).
3. Drop the ``incentives`` schema, migrate it afresh, and settle every edition again in stream
   order through the consumer's own use case (``IncentivesService.settle_replayed``) with the
   fund settings the service uses (``INCENTIVES_FUND_FILE``). An edition that fails its contract
   is skipped (the service dead-letters it); one whose predecessor is not settled waits for it,
   as the service's nak does (R6.2). Each edition revision is settled at the ``occurred_at`` of
   its stored allocated event (see below).
4. Compare each rebuilt ``incentives.v1.allocated`` with the stored one of the same edition
   revision: the canonical JSON of everything but ``event_id`` and ``occurred_at`` (pool,
   awards, fund, allocated total, remaining, aggregate version, cutoff, input positions...).
   Report each difference, a settlement stored but not rebuilt and one rebuilt but not stored;
   exit 1 if there is any, 0 when the ledgers are equal.

Why the rebuilt events are never published again: an allocated event's id is drawn at random
when it is settled, so the rebuild cannot derive it, and JetStream drops a repeated id only
within its 2-minute duplicate window; republished under new ids, the allocations would reach
notify (award notices, R5.4) and ranking's board as new facts. So each rebuilt outbox row equal
to a stored event *becomes* that event (its id and bytes) and is marked published at the stored
sequence, as the relay had done; a row that differs, or has no stored counterpart, is parked
with the reason: nothing the rebuild computed differently is ever sent by itself (the operator
reads the report, exit 1). The edition ids are recorded as applied by the consumer, so a
redelivery after the rebuild is a duplicate. The booking times (``booked_at``, ``settled_at``)
are those of the settlement, which the service takes once for its rows and its event's
``occurred_at``: each edition revision is settled again at the ``occurred_at`` of its stored
event, never at the time of the rebuild, so the append-only ledger (R6.4) is only inserted
into. A revision with no stored event is settled at the time of the rebuild (and reported).
Nothing checks that the service is stopped: stop every replica first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
from pydantic import ValidationError

from services.contracts.base import canonical_json
from services.contracts.incentives import Allocated
from services.contracts.ranking import EditionPublished
from services.contracts.streams import INCENTIVES, RANKING
from services.runtime.db import Pool, open_pool
from services.runtime.failures import InvalidMessage, NotReady
from services.runtime.json_diff import Difference, differences
from services.runtime.rebuilds import drop_and_migrate, refuse_pending_outbox
from services.runtime.service import ServiceRuntime
from services.runtime.stream_replay import ReplayIncomplete, stream_messages

from .settings import IncentivesSettings
from .use_cases import IncentivesService

SCHEMA = "incentives"
MIGRATIONS = Path(__file__).parent / "migrations"
WHEN_NOT_WHAT = {"event_id", "occurred_at"}  # taken from the stored event, never compared
ADDED_WITHIN_V1 = ("cutoff", "input_positions")  # absent from older stored events
MAX_PATHS = 8  # per settlement: enough to see what went wrong
Key = tuple[int, int, int]  # (year, edition, revision)


@dataclass
class Replayed:
    """What became of the editions read from RANKING."""

    editions: int = 0
    applied: int = 0  # settled, or an ignored lower revision (R6.4): as the consumer does
    duplicates: int = 0  # an event id already applied
    invalid: int = 0
    waiting: list[str] = field(default_factory=list)  # never settled: n-1 never came (R6.2)


@dataclass
class Report:
    replayed: Replayed
    stored: int
    identical: int
    differences: list[Difference]
    seconds: float

    def lines(self) -> Iterator[str]:
        r = self.replayed
        yield (
            f"replayed {r.editions} editions of {RANKING.name}: {r.applied} applied,"
            f" {r.duplicates} duplicates, {r.invalid} invalid (dead-lettered by the service)"
        )
        for edition in r.waiting:
            # As in the service, whose consumer naks it until then: not a difference.
            yield f"NOT SETTLED {edition}: waits for an earlier edition (R6.2)"
        for diff in self.differences:
            yield f"DIFFERS {diff.label} at {diff.path}: stored {diff.stored}, now {diff.ours}"
        yield (
            f"{self.identical} of {self.stored} stored allocations are identical"
            f" ({self.seconds:.1f} s)"
        )


async def replay(
    pool: Pool,
    service: IncentivesService,
    editions: list[tuple[int, bytes]],
    settled_at: dict[Key, datetime],
) -> Replayed:
    """Settle every edition in stream order, one transaction each, as the consumer does, each
    revision at its time in ``settled_at`` (else now); an edition that waits for its
    predecessor is tried again after each later settlement."""
    done = Replayed(editions=len(editions))
    waiting: list[tuple[int, EditionPublished]] = []
    for seq, data in editions:
        try:
            event = EditionPublished.model_validate_json(data)
        except ValidationError:
            done.invalid += 1
            continue
        waiting.append((seq, event))
        progress = True
        while progress:
            progress = False
            for item in list(waiting):
                outcome = await _settle(pool, service, settled_at, *item)
                if outcome == "waiting":
                    continue
                waiting.remove(item)
                if outcome == "applied":
                    done.applied += 1
                    progress = True
                elif outcome == "duplicate":
                    done.duplicates += 1
                else:
                    done.invalid += 1
    done.waiting = [f"{e.year}/{e.number} r{e.revision} ({RANKING.name} #{s})" for s, e in waiting]
    return done


async def _settle(
    pool: Pool,
    service: IncentivesService,
    settled_at: dict[Key, datetime],
    seq: int,
    event: EditionPublished,
) -> str:
    key = (event.year, event.number, event.revision)
    at = settled_at[key] if key in settled_at else service.now()
    try:
        async with pool.connection() as conn, conn.transaction():
            applied = await service.settle_replayed(conn, event, seq, at)
    except InvalidMessage:
        return "invalid"
    except NotReady:
        return "waiting"
    return "applied" if applied else "duplicate"


def compared_part(event: Allocated) -> dict[str, Any]:
    """Everything the log decides: the envelope's ids and times say when, not what."""
    wire = event.model_dump(mode="json", by_alias=True)
    return {k: v for k, v in wire.items() if k not in WHEN_NOT_WHAT}


@dataclass(frozen=True)
class Stored:
    seq: int
    data: bytes
    event: Allocated


def _stored_by_key(messages: list[tuple[int, bytes]], found: list[Difference]) -> dict[Key, Stored]:
    """The stored allocations by edition revision; an event republished under its own id (an
    outbox retry after the duplicate window) counts once."""
    by_key: dict[Key, Stored] = {}
    seen: set[str] = set()
    for seq, data in messages:
        try:
            event = Allocated.model_validate_json(data)
        except ValidationError as exc:
            label = f"{INCENTIVES.name} #{seq}"
            found.append(Difference(label, "$", "fails its contract", str(exc.error_count())))
            continue
        if str(event.event_id) in seen:
            continue
        seen.add(str(event.event_id))
        key = (event.year, event.edition, event.revision)
        if key in by_key:
            label = f"{_label(key)} ({INCENTIVES.name} #{seq})"
            found.append(Difference(label, "$", "settled twice", "once"))
            continue
        by_key[key] = Stored(seq, data, event)
    return by_key


def _label(key: Key) -> str:
    return f"{key[0]}/{key[1]} r{key[2]}"


async def compare_and_settle_outbox(
    pool: Pool, stored: dict[Key, Stored]
) -> tuple[int, list[Difference]]:
    """Compare the rebuild's outbox with the stored allocations; in one transaction, turn each
    identical row into the stored event (published at its sequence) and park every other one.
    Returns (identical allocations, differences)."""
    found: list[Difference] = []
    by_key = dict(stored)
    matched: list[tuple[int, Stored]] = []
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(
            "SELECT id, payload FROM outbox WHERE subject = %s ORDER BY id", (Allocated.SUBJECT,)
        )
        for row in await cur.fetchall():
            ours = Allocated.model_validate_json(bytes(row["payload"]))
            key = (ours.year, ours.edition, ours.revision)
            theirs = by_key.pop(key, None)
            if theirs is None:
                found.append(Difference(_label(key), "$", "not settled", "settled"))
                continue
            label = f"{_label(key)} ({INCENTIVES.name} #{theirs.seq})"
            a, b = compared_part(theirs.event), compared_part(ours)
            for name in ADDED_WITHIN_V1:  # an older event cannot be compared on what it lacks
                if a[name] is None:
                    del a[name], b[name]
            if canonical_json(a) != canonical_json(b):
                found.extend(list(differences(label, a, b))[:MAX_PATHS])
                continue
            matched.append((row["id"], theirs))
        for key, theirs in sorted(by_key.items()):
            label = f"{_label(key)} ({INCENTIVES.name} #{theirs.seq})"
            found.append(Difference(label, "$", "settled", "not settled"))
        for row_id, theirs in matched:
            await conn.execute(
                "UPDATE outbox SET event_id = %s, payload = %s, published_at = now(),"
                " stream_seq = %s WHERE id = %s",
                (theirs.event.event_id, theirs.data, theirs.seq, row_id),
            )
        await conn.execute(
            "UPDATE outbox SET parked_at = now(), last_error = %s"
            " WHERE published_at IS NULL AND parked_at IS NULL",
            ("rebuild: differs from the stored allocations; see the rebuild's report",),
        )
    return len(matched), found


async def rebuild(settings: IncentivesSettings, force: bool = False) -> Report:
    """The whole rebuild (see the module docstring); returns its report."""
    started = time.perf_counter()
    if not force:
        await refuse_pending_outbox(settings.database, SCHEMA)
    nc = await nats.connect(settings.nats)
    try:
        js = nc.jetstream()
        editions = [m async for m in stream_messages(js, RANKING, EditionPublished.SUBJECT)]
        stored = [m async for m in stream_messages(js, INCENTIVES, Allocated.SUBJECT)]
    finally:
        await nc.drain()
    found: list[Difference] = []
    by_key = _stored_by_key(stored, found)
    settled_at = {key: s.event.occurred_at for key, s in by_key.items()}
    await drop_and_migrate(settings.database, SCHEMA, MIGRATIONS)
    # Not started: the use case only stages its events in the outbox through it.
    runtime = ServiceRuntime(SCHEMA, settings, MIGRATIONS, (INCENTIVES, RANKING))
    service = IncentivesService(runtime=runtime, fund_settings=settings.fund)
    pool = await open_pool(settings.database, SCHEMA, 2)
    try:
        replayed = await replay(pool, service, editions, settled_at)
        identical, compared = await compare_and_settle_outbox(pool, by_key)
    finally:
        await pool.close()
    found.extend(compared)
    return Report(replayed, len(by_key), identical, found, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--force", action="store_true", help="drop even with an unsent outbox")
    parser.add_argument("--json", type=Path, help="also write the differences here")
    args = parser.parse_args(argv)
    try:
        settings = IncentivesSettings()
    except ValidationError as exc:
        print(f"rebuild not started, invalid settings:\n{exc}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(rebuild(settings, args.force))
    except ReplayIncomplete as exc:
        print(f"rebuild failed, nothing was dropped: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line, flush=True)
    if args.json:
        args.json.write_text(json.dumps([d.__dict__ for d in report.differences], indent=2))
    return 1 if report.differences else 0


if __name__ == "__main__":
    sys.exit(main())
