"""R4.1: what publication checks before it saves an edition. The rows are proven by the property
test beside it (tests/unit/ranking/test_rates_message.py validates the whole edition of any
generated campaign); everything else is checked on every publication."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from services.contracts.ranking import MAX_UNITS
from services.ranking.domain.payload import content_payload, edition_payload
from services.ranking.edition_messages import check_edition, edition_envelope
from tests.unit.ranking.test_edition_properties import Facts, _edition, campaigns

PUBLISHED = datetime(2018, 6, 4, 2, tzinfo=UTC)


def _message(facts: Facts) -> dict[str, Any]:
    content = _edition(facts)
    message = edition_envelope(UUID(int=1), content.year, 3, 2, PUBLISHED)
    message.update(edition_payload(content_payload(content), 3, 2, {"ISSUES": 9}, PUBLISHED))
    return message


@settings(max_examples=30, deadline=None)
@given(campaigns())
def test_the_edition_of_any_campaign_passes_the_publication_check(facts: Facts) -> None:
    check_edition(_message(facts))


@pytest.mark.parametrize(
    ("field", "value"),
    [("year", 1999), ("cutoff", "2018-06-03T16:00:00"), ("rule_version", ""), ("number", "3")],
)
def test_an_edition_whose_envelope_breaks_its_contract_is_refused(field: str, value: Any) -> None:
    message = _message(Facts([], [], []))
    message[field] = value
    with pytest.raises(ValidationError, match=field):
        check_edition(message)


def test_an_edition_whose_campaign_figures_break_the_contract_is_refused() -> None:
    message = _message(Facts([], [], []))
    message["campaign"] = {**message["campaign"], "reported": -1}
    with pytest.raises(ValidationError, match=r"campaign\.reported"):
        check_edition(message)


def test_an_edition_ranking_more_units_than_its_contract_allows_is_refused() -> None:
    message = _message(Facts([], [], []))
    row = {"unit_id": "d1"}  # the count alone refuses it, before any row is read
    message["categories"]["district"]["rows"] = [row] * (MAX_UNITS + 1)
    with pytest.raises(ValueError, match="contract allows"):
        check_edition(message)
