"""The webhook adapter's guards and retry arithmetic (R5), with no servers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpcore
import pytest
from pydantic import SecretStr

from services.notify.channels import PinnedBackend, Sender, Target
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


class _Dns:
    """A fake resolver: each lookup of a name gets the next answer (the last one repeats),
    like a rebinding DNS server whose answer changes right after the check."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]


class _Sockets(httpcore.AsyncNetworkBackend):
    """Records where a connection is opened, and opens none."""

    def __init__(self) -> None:
        self.connected: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        raise httpcore.ConnectError("no network in this test")


async def test_the_connection_goes_to_the_address_that_was_checked_never_a_rebound_one() -> None:
    dns = _Dns(["93.184.216.34"], ["127.0.0.1"])  # public for the check, then rebound
    sockets = _Sockets()
    backend = PinnedBackend(allow_private=False, resolver=dns, inner=sockets)
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("hooks.rebind.test", 443, timeout=1.0)
    assert dns.lookups == ["hooks.rebind.test"]  # resolved once: check and connect share it
    assert sockets.connected == ["93.184.216.34"]


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["93.184.216.34", "169.254.169.254"]])
async def test_a_name_resolving_to_any_private_address_is_refused_before_connecting(
    answer: list[str],
) -> None:
    sockets = _Sockets()
    backend = PinnedBackend(allow_private=False, resolver=_Dns(answer), inner=sockets)
    with pytest.raises(UnsafeTarget, match="non-public"):
        await backend.connect_tcp("hooks.rebind.test", 443, timeout=1.0)
    assert sockets.connected == []


async def test_the_sender_refuses_a_name_resolving_to_loopback_and_sends_nothing() -> None:
    receiver = Receiver()
    await receiver.start()
    port = receiver.url.split(":")[2].split("/")[0]
    # The name is checked where the socket is opened (the receiver listens on loopback).
    dns = _Dns(["127.0.0.1"])
    sender = Sender(1.0, allow_private=False, allowed_hosts={}, resolver=dns)
    url = f"http://hooks.rebind.test:{port}/hooks/chuangwen"
    try:
        outcome = await sender.send(
            Target("webhook", "webhook", url, SecretStr(SECRET)), "m", {}, NOW
        )
    finally:
        await sender.aclose()
        await receiver.stop()
    assert outcome.verdict is Verdict.PERMANENT and "non-public" in outcome.detail
    assert receiver.requests == []


async def test_the_sender_connects_to_the_resolved_address_with_the_urls_host_name() -> None:
    receiver = Receiver()
    await receiver.start()
    port = receiver.url.split(":")[2].split("/")[0]
    dns = _Dns(["127.0.0.1"])  # no real DNS knows this name: only the pinned address works
    sender = Sender(2.0, allow_private=True, allowed_hosts={}, resolver=dns)
    url = f"http://hooks.chuangwen.test:{port}/hooks/chuangwen"
    try:
        outcome = await sender.send(
            Target("webhook", "webhook", url, SecretStr(SECRET)), "m", {}, NOW
        )
    finally:
        await sender.aclose()
        await receiver.stop()
    assert outcome.verdict is Verdict.DELIVERED
    assert dns.lookups == ["hooks.chuangwen.test"]
    assert [r.headers["host"] for r in receiver.requests] == [f"hooks.chuangwen.test:{port}"]
