"""The published form of an edition (R4.1, R7) and its content digest.

The payload is a JSON-ready dict; `canonical.canonical_json` turns it into the published bytes.
Its *content* part is everything but the envelope keys (number, revision, input positions,
publication time); R4.1 makes a new revision only when that part differs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from fractions import Fraction

from services.ranking.domain.canonical import canonical_json, joined_members
from services.ranking.domain.edition import CategoryEdition, EditionContent, RankingRow
from services.ranking.domain.instants import require_aware
from services.ranking.domain.numbers import display, exact, exact_ratio, percent_of
from services.ranking.domain.rates import RateCounts

__all__ = [
    "ENVELOPE_KEYS",
    "content_digest",
    "content_payload",
    "counts_payload",
    "edition_payload",
    "instant_text",
    "members_digest",
    "payload_digest",
    "same_content",
]

ENVELOPE_KEYS = frozenset({"number", "revision", "input_positions", "published_at"})
"""R4.1: the keys that do not count as content when deciding whether to make a new revision."""


def instant_text(instant: datetime) -> str:
    """R7: an instant as UTC ISO 8601 with ``Z`` (e.g. ``2018-06-03T16:00:00Z``), one spelling per
    instant whatever zone the caller's datetime carries, so recomputed bytes match."""
    utc = require_aware(instant, "instant").astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def _number(value: Fraction) -> dict[str, str]:
    return {"exact": exact(value), "display": display(value)}


def _rate(part: int, whole: int) -> dict[str, str] | None:
    # R7 for rates: exact is the fraction itself, display the percentage ("3107/3440", "90.32");
    # undefined (None) with nothing reported (R3.3).
    if not whole:
        return None
    return {"exact": exact_ratio(part, whole), "display": percent_of(part, whole)}


def counts_payload(counts: RateCounts) -> dict[str, object]:
    """R3.1-R3.5, R7: counts with the rate and on-time rate as exact fraction + percentage."""
    return {
        "reported": counts.reported,
        "rectified": counts.rectified,
        "rate": _rate(counts.rectified, counts.reported),
        "overdue": counts.overdue,
        "rework": counts.rework,
        "on_time": counts.on_time,
        "on_time_rate": _rate(counts.on_time, counts.reported),
    }


def _row(row: RankingRow) -> dict[str, object]:
    score: dict[str, str] | None = None
    if row.score is not None and row.score_month is not None:
        year, month = row.score_month
        score = {**_number(row.score), "month": f"{year:04d}-{month:02d}"}
    return {
        "unit_id": row.unit_id,
        "name": row.name,
        "parent_id": row.parent_id,
        "rank": row.rank,
        "bottom_rank": row.bottom_rank,
        "composite": _number(row.composite),
        "score": score,
        **counts_payload(row),
    }


def _category(part: CategoryEdition) -> dict[str, object]:
    return {
        "rows": [_row(row) for row in part.rows],
        "red": list(part.red),
        "black": list(part.black),
    }


def content_payload(content: EditionContent) -> dict[str, object]:
    """R4.1/R7: the content part of the payload, JSON-ready (exact numbers as strings)."""
    return {
        "cutoff": instant_text(content.cutoff),
        "year": content.year,
        "rule_version": content.rule_version,
        "categories": {part.category.value: _category(part) for part in content.categories},
        "campaign": counts_payload(content.totals),
    }


def edition_payload(
    content: EditionContent | Mapping[str, object],
    number: int,
    revision: int,
    input_positions: Mapping[str, int],
    published_at: datetime,
) -> dict[str, object]:
    """R4.1/R7: the full published edition: content plus number, revision, the input positions
    (per stream, the highest sequence up to which every event was applied) and publication time.
    ``content`` may be given as its `content_payload` already (computed once per publication)."""
    for name, value in (("number", number), ("revision", revision)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    positions: dict[str, int] = {}
    for stream, position in input_positions.items():
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise ValueError(f"input position of {stream!r} must be an int >= 0, got {position!r}")
        positions[str(stream)] = position
    body = content_payload(content) if isinstance(content, EditionContent) else content
    return {
        **body,
        "number": number,
        "revision": revision,
        "input_positions": positions,
        "published_at": instant_text(published_at),
    }


def payload_digest(payload: Mapping[str, object]) -> str:
    """R4.1: SHA-256 (hex) of the canonical JSON of a payload without its envelope keys.

    Works on a stored payload as well as a fresh one, so a republication can be compared with
    what was published before without rebuilding the old `EditionContent`.
    """
    content = {key: value for key, value in payload.items() if key not in ENVELOPE_KEYS}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def members_digest(members: Mapping[str, bytes]) -> str:
    """R4.1: `payload_digest` of a payload given as its members' canonical bytes
    (`canonical.canonical_members`), so that the content is not serialised twice."""
    content = {key: value for key, value in members.items() if key not in ENVELOPE_KEYS}
    return hashlib.sha256(joined_members(content)).hexdigest()


def content_digest(content: EditionContent) -> str:
    """R4.1: the digest of an edition's content (equal to `payload_digest` of its payload)."""
    return payload_digest(content_payload(content))


def same_content(a: EditionContent, b: EditionContent) -> bool:
    """R4.1: whether two computations say the same thing, ignoring revision, input positions and
    publication time (which are not part of `EditionContent` at all)."""
    return content_digest(a) == content_digest(b)
