"""The projection an edition benchmark starts from, written as ranking's consumer leaves it
(bench/ranking_edition.py): units, issues reported over 2018 and 90% of them rectified."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

import services.ranking
from bench._events import START, unit_ids
from services.runtime.migrations import migrate

SHANGHAI = ZoneInfo("Asia/Shanghai")
CUTOFF = datetime(2018, 12, 31, tzinfo=SHANGHAI)  # a Monday; every generated event is before
# Rectifications recorded after the cutoff, which the edition folds from facts: a scheduled
# edition waits 2 h past its cutoff; at a million issues a year that is ~250 changes, here ~900.
LATE_SHARE = 0.001


async def seed_projection(url: str, units: int, issues: int, seq_base: int) -> int:
    """Write the projection as the consumer leaves it: unit facts, issue facts (reported, 90%
    rectified, `LATE_SHARE` of them after the cutoff), input positions. Returns the last
    sequence."""
    await migrate(url, "ranking", Path(services.ranking.__file__).parent / "migrations")
    rng = random.Random(4)
    ids = unit_ids(units, "e")
    seq = seq_base
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute("SET search_path TO ranking")
        async with conn.cursor().copy(
            "COPY unit_facts (event_id, unit_id, kind, occurred_at, aggregate_version, name,"
            " category, parent_id, active, stream_seq) FROM STDIN"
        ) as copy:
            for i, unit_id in enumerate(ids):
                seq += 1
                category = ("department", "district", "town")[i % 3]
                row = (uuid.uuid4(), unit_id, "registered", START - timedelta(days=1), 1)
                await copy.write_row((*row, f"单位{i}", category, None, True, seq))
        span = int((CUTOFF - START).total_seconds() // 60)
        async with conn.cursor().copy(
            "COPY issue_facts (event_id, issue_id, kind, occurred_at, aggregate_version,"
            " unit_id, reported_at, deadline, stream_seq) FROM STDIN"
        ) as copy:
            for n in range(issues):
                issue_id = uuid.uuid4()
                when = START + timedelta(minutes=rng.randrange(0, span - 600))
                unit_id = ids[n % units]
                seq += 1
                deadline = when + timedelta(days=3)
                await copy.write_row(
                    (uuid.uuid4(), issue_id, "reported", when, 1, unit_id, when, deadline, seq)
                )
                if rng.random() < 0.9:
                    late = rng.random() < LATE_SHARE
                    done = CUTOFF + timedelta(hours=1) if late else when + timedelta(hours=5)
                    seq += 1
                    await copy.write_row(
                        (uuid.uuid4(), issue_id, "rectified", done, 2, None, None, None, seq)
                    )
        await conn.execute(
            "INSERT INTO input_positions (stream, watermark) VALUES ('ISSUES', %s)", (seq,)
        )
        await conn.execute("ANALYZE")
        await conn.commit()
    return seq
