"""The messages a publication stages besides the stored edition (R4.1, R3.5): the edition's
event envelope and the weekly rate report notify reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.contracts.ranking import MAX_UNITS, EditionPublished, RatesPublished

from .domain.canonical import canonical_json
from .domain.payload import instant_text

PRODUCER = "ranking"


def edition_envelope(
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


def check_edition(message: dict[str, Any]) -> None:
    """R4.1: the edition's contract, checked before anything is saved, on all of the message
    but its ranked rows (strict: our JSON has no string that merely looks like a number).

    The rows are produced by `payload.content_payload` from facts validated on the way in, and
    tests/unit/ranking/test_rates_message.py checks that the edition of any generated campaign
    satisfies `EditionPublished` whole; validating 10,000 rows again at each publication cost a
    third of it. The one bound the rows could break by their number alone is checked here."""
    boards = message["categories"]
    for category, board in boards.items():
        if len(board["rows"]) > MAX_UNITS:
            raise ValueError(
                f"the edition would rank {len(board['rows'])} {category} units;"
                f" its contract allows {MAX_UNITS}"
            )
    without_rows = {name: {**board, "rows": []} for name, board in boards.items()}
    outline = canonical_json({**message, "categories": without_rows})
    EditionPublished.model_validate_json(outline, strict=True)


def rates_message(edition: dict[str, Any], event_id: UUID, at: datetime) -> dict[str, Any]:
    """R3.5: the weekly rate report for every ranked unit, from the edition's rows.

    A projection of an edition already validated against its contract, so it is not validated
    again here (~0.15 s at 10,000 units); tests/unit/ranking/test_rates_message.py checks that
    it always satisfies `RatesPublished`. The one bound an edition does not imply is checked
    here: the report lists every category's units in one list."""
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
    if len(units) > MAX_UNITS:
        raise ValueError(
            f"the rate report would list {len(units)} units; its contract allows {MAX_UNITS}"
        )
    return message
