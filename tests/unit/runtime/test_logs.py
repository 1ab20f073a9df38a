"""Every record a service writes is one JSON object at the configured level, FastStream's too
(services.runtime.logs)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import faststream  # noqa: F401  (every service imports it before configuring its logs)
import pytest

from services.runtime.logs import QUIET, configure_logging


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    root, own = logging.getLogger(), logging.getLogger("faststream")
    saved = (root.handlers[:], root.level, own.handlers[:], own.propagate, own.level)
    quiet = {name: logging.getLogger(name).level for name in QUIET}
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    own.handlers[:], own.propagate, own.level = saved[2], saved[3], saved[4]
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_a_record_of_ours_is_one_json_object_tagged_with_the_service(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("ranking", "INFO")
    logging.getLogger("services.ranking").info("edition published", extra={"edition": 3})
    [line] = _lines(capsys.readouterr().err)
    assert line["service"] == "ranking"
    assert line["level"] == "INFO"
    assert line["message"] == "edition published"
    assert line["edition"] == 3


def test_faststreams_records_go_through_our_handler_as_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("notify", "INFO")
    logging.getLogger("faststream").error("subscriber task raised an exception, retrying...")
    [line] = _lines(capsys.readouterr().err)
    assert line == line | {"service": "notify", "level": "ERROR", "logger": "faststream"}


@pytest.mark.parametrize(
    ("level", "library"),
    [
        ("WARNING", "faststream"),  # its subscriber supervisor says each task's end at INFO
        ("DEBUG", "nats.aio.client"),  # chatty libraries keep WARNING and above even at DEBUG
    ],
)
def test_library_records_below_their_level_are_dropped(
    level: str, library: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("notify", level)
    logging.getLogger(library).info("callback for Task-7 is being executed...")
    logging.getLogger(library).warning("kept")
    assert [line["message"] for line in _lines(capsys.readouterr().err)] == ["kept"]
