"""The weekly rate report (R3.5) is a projection of an edition: built from any valid edition it
satisfies its own contract, so publication need not validate it a second time."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings

from services.contracts.ranking import MAX_UNITS, EditionPublished, RatesPublished
from services.ranking.domain.canonical import canonical_json
from services.ranking.domain.payload import content_payload, edition_payload
from services.ranking.edition_messages import edition_envelope, rates_message
from tests.unit.ranking.test_edition_properties import Facts, _edition, campaigns

PUBLISHED = datetime(2018, 6, 4, 2, tzinfo=UTC)


@settings(max_examples=60, deadline=None)
@given(campaigns())
def test_the_rate_report_of_any_valid_edition_satisfies_its_contract(facts: Facts) -> None:
    content = _edition(facts)
    message = edition_envelope(UUID(int=1), content.year, 3, 2, PUBLISHED)
    message.update(edition_payload(content_payload(content), 3, 2, {"ISSUES": 9}, PUBLISHED))
    EditionPublished.model_validate_json(canonical_json(message), strict=True)

    report = RatesPublished.model_validate_json(
        canonical_json(rates_message(message, UUID(int=2), PUBLISHED))
    )

    assert (report.year, report.number, report.revision) == (content.year, 3, 2)
    ranked = {
        row["unit_id"]: (category, row["rank"], row["reported"], row["rectified"], row["rate"])
        for category, board in message["categories"].items()
        for row in board["rows"]
    }
    reported = {
        unit.unit_id: (
            unit.category,
            unit.rank,
            unit.reported,
            unit.rectified,
            None if unit.rate is None else unit.rate.model_dump(),
        )
        for unit in report.units
    }
    assert reported == ranked


def test_a_rate_report_beyond_its_contract_bound_is_refused_not_published() -> None:
    # Each category may rank up to MAX_UNITS units, the report lists them all in one list.
    row: dict[str, Any] = {"unit_id": "d1", "name": "单位", "rank": 1, "reported": 1}
    row |= {"rectified": 1, "overdue": 0, "rework": 0, "on_time": 1}
    row |= {"rate": None, "on_time_rate": None}
    half = {"rows": [row] * (MAX_UNITS // 2 + 1)}
    edition: dict[str, Any] = {"categories": {"department": half, "district": half}}
    edition |= {"aggregate_id": "e", "revision": 1, "year": 2018, "number": 1}
    edition |= {"cutoff": "x", "rule_version": "v1"}
    with pytest.raises(ValueError, match="contract allows"):
        rates_message(edition, UUID(int=3), PUBLISHED)
