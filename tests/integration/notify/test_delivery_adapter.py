"""The webhook adapter's guards and retry arithmetic (R5), with no servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from services.notify.delivery import (
    UnsafeTarget,
    Verdict,
    WebhookSender,
    backoff_seconds,
    guard_target,
    is_public_address,
    parse_retry_after,
)

from .conftest import SECRET
from .receiver import Receiver

NOW = datetime(2030, 6, 3, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
async def test_the_ssrf_guard_refuses_private_and_loopback_targets(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        await guard_target(url, allow_private=False)
    await guard_target(url, allow_private=True)


async def test_the_ssrf_guard_refuses_other_schemes_even_when_private_is_allowed() -> None:
    with pytest.raises(UnsafeTarget):
        await guard_target("file:///etc/passwd", allow_private=True)


def test_public_addresses_pass() -> None:
    assert is_public_address("93.184.216.34")
    assert is_public_address("2606:4700::1111")
    assert not is_public_address("172.16.0.1")


async def test_a_refused_target_is_a_permanent_failure_and_nothing_is_sent() -> None:
    receiver = Receiver()
    await receiver.start()
    sender = WebhookSender(receiver.url, SecretStr(SECRET), 1.0, allow_private=False)
    try:
        outcome = await sender.send("msg-1", b"{}", NOW)
    finally:
        await sender.aclose()
        await receiver.stop()
    assert outcome.verdict is Verdict.PERMANENT
    assert receiver.requests == []


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after("Mon, 03 Jun 2030 16:00:30 GMT", NOW) == 30.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    assert [backoff_seconds(a, 2.0, 10.0, 0.0) for a in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert backoff_seconds(1, 2.0, 10.0, 0.999) < 2.0
