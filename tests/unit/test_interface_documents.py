"""The committed AsyncAPI documents and JSON Schemas match the code (``make docs``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.contracts.registry import EVENTS
from services.contracts.streams import stream_for_subject
from tools import asyncapi, nats_permissions

Docs = dict[Path, str]


@pytest.fixture(scope="module")
def generated() -> Docs:
    return asyncapi.documents()


def test_committed_documents_are_not_stale(generated: Docs) -> None:
    stale = [
        str(path.relative_to(asyncapi.ROOT))
        for path, text in generated.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert stale == [], f"run `make docs`: {stale}"


def test_every_contract_subject_is_declared_by_its_producer(generated: Docs) -> None:
    channels = asyncapi.channels_by_service(generated)
    owners = {"runtime": None}
    for model in EVENTS:
        owner = stream_for_subject(model.SUBJECT).owner
        assert owners.get(owner, owner) is not None
        assert model.SUBJECT in channels[owner], f"{owner} does not declare {model.SUBJECT}"


def test_every_event_has_a_json_schema_naming_its_subject(generated: Docs) -> None:
    for model in EVENTS:
        path = asyncapi.DOCS / "schemas" / f"{model.SUBJECT}.json"
        schema = json.loads(generated[path])
        assert schema["x-subject"] == model.SUBJECT
        assert "schema" in schema["properties"], "the envelope's alias is the wire name"


def test_nats_permissions_are_generated_from_the_code() -> None:
    """deploy/nats/permissions.conf lists exactly what the services declare (make docs)."""
    assert nats_permissions.TARGET.read_text() == nats_permissions.render()
