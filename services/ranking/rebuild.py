"""``python -m services.ranking.rebuild``: rebuild ranking from the event log and prove that every
published edition is reproducible from it, byte for byte (R7).

1. Drop the ``ranking`` schema and migrate it afresh (stop the ranking service first; the
   command refuses while the outbox still holds unpublished events, which would be lost).
2. Replay ``ISSUES`` and ``ASSESSMENTS`` from their first message into the fresh projection
   (and ``incentives.v1.allocated`` into the board page's view of the fund, not compared).
3. Read every ``ranking.v1.edition_published`` on ``RANKING``: store it again (the read API and
   the numbering need it) and recompute it from the facts up to its recorded input positions
   with the rule version it carries.
4. Compare the canonical JSON of content + number + revision + input positions; report each
   difference and exit 1 if there is any (0 when every edition matches). A replay that stops
   before an input stream's last sequence exits 2 (run it again; nothing is compared).

The envelope (``event_id``, ``published_at``, ``occurred_at``) is taken from the stored event:
it records when, not what.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import nats
from nats.js import JetStreamContext
from pydantic import ValidationError

from services.contracts.incentives import Allocated
from services.contracts.streams import ASSESSMENTS, INCENTIVES, ISSUES, RANKING
from services.runtime.db import Pool, open_pool
from services.runtime.json_diff import Difference
from services.runtime.rebuilds import drop_and_migrate, refuse_pending_outbox
from services.runtime.stream_replay import ReplayIncomplete, stream_messages

from .fund import record_allocation
from .projection import summarise_all
from .replay import load_all_facts, replay_stream
from .rule_book import RuleBook, load_rule_book
from .settings import RankingSettings
from .verify import recompute_and_compare

SCHEMA = "ranking"


@dataclass
class Report:
    replayed: dict[str, int]
    editions: int
    differences: list[Difference]
    seconds: float

    def lines(self) -> Iterator[str]:
        for stream, count in self.replayed.items():
            yield f"replayed {count} messages of {stream}"
        for diff in self.differences:
            yield f"DIFFERS {diff.label} at {diff.path}: stored {diff.stored}, now {diff.ours}"
        same = self.editions - len({d.label for d in self.differences})
        yield f"{same} of {self.editions} edition revisions are identical ({self.seconds:.1f} s)"


async def replay_fund(js: JetStreamContext, pool: Pool) -> int:
    """Record every ``incentives.v1.allocated`` again (the board's fund); returns how many were
    read. One that fails its contract is skipped, as the live consumer dead-letters it."""
    count = 0
    async for seq, data in stream_messages(js, INCENTIVES, Allocated.SUBJECT):
        count += 1
        try:
            event = Allocated.model_validate_json(data)
        except ValidationError:
            continue
        async with pool.connection() as conn, conn.transaction():
            await record_allocation(conn, event, seq)
    return count


async def rebuild(settings: RankingSettings, book: RuleBook, force: bool = False) -> Report:
    """The whole rebuild (see the module docstring); returns its report."""
    started = time.perf_counter()
    if not force:
        await refuse_pending_outbox(settings.database, SCHEMA)
    await drop_and_migrate(settings.database, SCHEMA, Path(__file__).parent / "migrations")
    nc = await nats.connect(settings.nats)
    pool = await open_pool(settings.database, SCHEMA, 4)
    try:
        js = nc.jetstream()
        replayed = {
            spec.name: await replay_stream(js, pool, spec) for spec in (ISSUES, ASSESSMENTS)
        }
        replayed[INCENTIVES.name] = await replay_fund(js, pool)
        await summarise_all(pool)  # the live projection's issue summaries (not compared)
        facts = await load_all_facts(pool)
        editions = [m async for m in stream_messages(js, RANKING, "ranking.v1.edition_published")]
        differences = await recompute_and_compare(
            pool, editions, facts, book, ZoneInfo(settings.timezone)
        )
    finally:
        await pool.close()
        await nc.drain()
    return Report(replayed, len(editions), differences, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--force", action="store_true", help="drop even with an unsent outbox")
    parser.add_argument("--json", type=Path, help="also write the differences here")
    args = parser.parse_args(argv)
    settings = RankingSettings()
    book = load_rule_book(settings.rules_file, settings.rule_version)
    try:
        report = asyncio.run(rebuild(settings, book, args.force))
    except ReplayIncomplete as exc:
        print(f"rebuild failed, the projection is incomplete: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line, flush=True)
    if args.json:
        args.json.write_text(json.dumps([d.__dict__ for d in report.differences], indent=2))
    return 1 if report.differences else 0


if __name__ == "__main__":
    sys.exit(main())
