"""Recomputing stored editions from the replayed facts and comparing them (R4.1, R7).

What is compared is what the event log decides: the content (cutoff, year, rule version, every
category's ranking and lists, campaign counts) plus number, revision and input positions, as
canonical JSON. The envelope (``event_id``, ``occurred_at``, ``published_at``) says when, and
is taken from the stored event.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.runtime.db import Pool
from services.runtime.json_diff import Difference, differences

from . import store
from .domain.canonical import canonical_json
from .domain.edition import compute_edition
from .domain.payload import edition_payload
from .replay import AllFacts
from .rule_book import RuleBook

_NOT_COMPARED = {
    "event_id",
    "type",
    "schema",
    "occurred_at",
    "producer",
    "aggregate_id",
    "aggregate_version",
    "published_at",
}
MAX_PATHS = 5  # per edition revision: enough to see what went wrong


def compared_part(message: dict[str, Any]) -> dict[str, Any]:
    """Content + number, revision and input positions: what must be reproducible (R7)."""
    return {k: v for k, v in message.items() if k not in _NOT_COMPARED}


def recompute(
    stored: dict[str, Any], facts: AllFacts, book: RuleBook, tz: ZoneInfo
) -> dict[str, Any]:
    """The edition revision recomputed at its input positions with its rule version."""
    rules = book.version(stored["rule_version"])
    positions = {str(k): int(v) for k, v in stored["input_positions"].items()}
    units, issues, scores = facts.upto(positions)
    content = compute_edition(
        cutoff=datetime.fromisoformat(stored["cutoff"]),
        rules=rules,
        tz=tz,
        unit_facts=units,
        issue_facts=issues,
        scores=scores,
    )
    payload = edition_payload(
        content,
        stored["number"],
        stored["revision"],
        positions,
        datetime.fromisoformat(stored["published_at"]),
    )
    return compared_part(dict(payload))


async def recompute_and_compare(
    pool: Pool,
    editions: list[tuple[int, bytes]],
    facts: AllFacts,
    book: RuleBook,
    tz: ZoneInfo,
) -> list[Difference]:
    """Store every edition message again and compare each with its recomputation."""
    found: list[Difference] = []
    async with pool.connection() as conn, conn.transaction():
        for seq, data in editions:
            stored = json.loads(data)
            label = f"{stored['year']}/{stored['number']} r{stored['revision']} (RANKING #{seq})"
            await store.save_edition(conn, stored, data)
            try:
                ours = recompute(stored, facts, book, tz)
            except (LookupError, ValueError) as exc:
                found.append(Difference(label, "$", "stored edition", f"not recomputable: {exc}"))
                continue
            mine = compared_part(stored)
            if canonical_json(mine) != canonical_json(ours):
                diffs = list(differences(label, mine, ours))[:MAX_PATHS]
                found.extend(diffs or [Difference(label, "$", "bytes", "differ")])
    return found
