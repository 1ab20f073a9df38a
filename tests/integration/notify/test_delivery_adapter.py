"""The webhook adapter's guards and retry arithmetic (R5), with no servers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from services.notify.channels import Sender, Target
from services.notify.delivery import (
    UnsafeTarget,
    Verdict,
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


async def test_the_host_allow_list_refuses_other_hosts_unless_private_targets_are_allowed() -> None:
    robots = frozenset({"qyapi.weixin.qq.com"})
    with pytest.raises(UnsafeTarget, match="allow-list"):
        await guard_target("https://example.com/cgi-bin/webhook/send", False, robots)
    await guard_target("http://127.0.0.1:9/cgi-bin/webhook/send", True, robots)


def test_public_addresses_pass() -> None:
    assert is_public_address("93.184.216.34")
    assert is_public_address("2606:4700::1111")
    assert not is_public_address("172.16.0.1")


async def test_a_refused_target_is_a_permanent_failure_and_nothing_is_sent() -> None:
    receiver = Receiver()
    await receiver.start()
    sender = Sender(1.0, allow_private=False, allowed_hosts={})
    target = Target("webhook", "webhook", receiver.url, SecretStr(SECRET))
    try:
        outcome = await sender.send(target, "msg-1", {}, NOW)
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


async def _send_to(receiver: Receiver) -> Any:
    sender = Sender(2.0, allow_private=True, allowed_hosts={})
    try:
        target = Target("webhook", "webhook", receiver.url, SecretStr(SECRET))
        return await sender.send(target, "msg-1", {"a": 1}, NOW)
    finally:
        await sender.aclose()


async def test_a_429_is_retried_when_the_receiver_says_and_a_redirect_is_not_followed() -> None:
    answers = {
        "429": (429, b"", "Retry-After: 7\r\n"),
        "302": (302, b"", "Location: http://127.0.0.1:9/elsewhere\r\n"),
    }
    for code, answer in answers.items():
        receiver = Receiver(respond=lambda _t, _h, a=answer: a)  # type: ignore[misc]
        await receiver.start()
        try:
            outcome = await _send_to(receiver)
        finally:
            await receiver.stop()
        assert len(receiver.requests) == 1  # a redirect is never followed
        if code == "429":
            assert (outcome.verdict, outcome.retry_after) == (Verdict.RETRY, 7.0)
        else:
            assert (outcome.verdict, outcome.status_code) == (Verdict.PERMANENT, 302)


async def test_a_receiver_that_does_not_answer_in_time_is_retried_later() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = Sender(0.3, allow_private=True, allowed_hosts={})
    target = Target("webhook", "webhook", f"http://127.0.0.1:{port}/hook", SecretStr(SECRET))
    try:
        outcome = await sender.send(target, "msg-1", {}, NOW)
    finally:
        await sender.aclose()
        server.close()
    assert (outcome.verdict, outcome.detail) == (Verdict.RETRY, "timeout")
