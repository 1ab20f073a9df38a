"""The HTTP adapter's error handling (mock transport) and the parsing of typed inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cli.client import Api
from cli.config import Config
from cli.errors import CliError, HttpError
from cli.files import spreadsheet
from cli.instants import latest_monday, parse_instant


def test_connection_refused_names_the_service_that_is_down() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with Api(Config(), transport=httpx.MockTransport(refuse)) as api, pytest.raises(CliError) as e:
        api.get("ranking", "/v1/editions/latest")
    assert "the ranking service is down or unreachable at http://127.0.0.1:8102" in str(e.value)
    assert "connection refused" in str(e.value)


def test_a_refusal_keeps_its_status_and_body() -> None:
    body = {"detail": "no edition 2018/99"}
    transport = httpx.MockTransport(lambda _: httpx.Response(404, json=body))
    with Api(Config(token="dev-viewer"), transport=transport) as api, pytest.raises(HttpError) as e:
        api.get("ranking", "/v1/editions/2018/99")
    assert e.value.status == 404 and e.value.body == body
    assert str(e.value) == "ranking answered HTTP 404: no edition 2018/99"


def test_the_bearer_token_is_sent() -> None:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"ok": True})

    with Api(Config(token="dev-ops"), transport=httpx.MockTransport(record)) as api:
        assert api.get("notify", "/v1/x") == {"ok": True}
    assert seen == ["Bearer dev-ops"]


def test_instants_without_offset_are_asia_shanghai() -> None:
    assert parse_instant("2018-05-07").isoformat() == "2018-05-07T00:00:00+08:00"
    assert parse_instant("2018-05-07T09:30:00Z").utcoffset() is not None
    with pytest.raises(CliError, match="--cutoff: 'monday' is not a date"):
        parse_instant("monday", "--cutoff")
    wednesday = datetime(2018, 5, 9, 3, 0, tzinfo=UTC)
    assert latest_monday(wednesday).isoformat() == "2018-05-07T00:00:00+08:00"


def test_only_csv_or_xlsx_files_are_sent(tmp_path: Path) -> None:
    path = tmp_path / "units.txt"
    path.write_text("x")
    with pytest.raises(CliError, match=r"not a \.csv or \.xlsx"):
        spreadsheet(path)
    empty = tmp_path / "units.csv"
    empty.write_text("")
    with pytest.raises(CliError, match="the file is empty"):
        spreadsheet(empty)
    with pytest.raises(CliError, match="cannot read it"):
        spreadsheet(tmp_path / "missing.csv")
