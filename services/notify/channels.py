"""The channel adapters over httpx (R5): a generic webhook signed per Standard Webhooks, the
WeCom group robot and the DingTalk robot with its signed URL.

Secrets (webhook keys, robot keys in URLs, DingTalk signing secrets) stay ``SecretStr`` and
never reach a log: URLs are logged with their query values masked, secrets as the redaction
marker, and httpx's own request log is filtered the same way.

SSRF (delivery.py): the client's connections go through `PinnedBackend`, which resolves the
host once, checks every address and connects to a checked one; TLS still verifies and sends
SNI for the URL's host name (httpcore passes it to ``start_tls``), and the Host header is the
URL's. So a DNS answer that changes after the check (rebinding) never reaches a private address.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpcore
import httpx
from pydantic import SecretStr

from .delivery import (
    Outcome,
    Resolver,
    UnsafeTarget,
    Verdict,
    check_url,
    parse_retry_after,
    public_addresses,
    system_resolver,
)
from .domain.robots import dingtalk_message, dingtalk_signed_url, robot_verdict, wecom_message
from .domain.webhook_signature import signed_headers

log = logging.getLogger(__name__)

ChannelKind = Literal["webhook", "wecom", "dingtalk"]
REDACTED = "**********"  # what str(SecretStr(...)) prints
MAX_ANSWER_BYTES = 64 * 1024  # a robot's answer is a few bytes of JSON; never buffer more


def redact_url(url: str) -> str:
    """``url`` with every query value masked (robot keys and signatures live there)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    masked = [(k, REDACTED) for k, _ in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*")))


class _RedactHttpxUrls(logging.Filter):
    """httpx logs each request's full URL at INFO; mask its query first."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(str(a)) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


logging.getLogger("httpx").addFilter(_RedactHttpxUrls())


@dataclass(frozen=True)
class Target:
    """Where one delivery goes; ``channel`` names it (a robot's rate limit is per URL:
    ``domain.robots.pace_key``)."""

    channel: str
    kind: ChannelKind
    url: str = field(repr=False)
    secret: SecretStr | None = None

    @property
    def is_robot(self) -> bool:
        return self.kind != "webhook"


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the SSRF check at the socket: ``connect_tcp`` resolves
    the host once through ``resolver``, refuses (`UnsafeTarget`) unless every address is public
    (``allow_private`` waives that, dev/test), then connects to those very addresses, never to
    the name, so nothing resolves it again between check and connect."""

    def __init__(
        self,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend() if inner is None else inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                if self._allow_private:
                    addresses = list(await self._resolver(host, port))
                else:
                    addresses = await public_addresses(host, port, self._resolver)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:  # only when private targets are allowed: dev and tests
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeTarget("notices are never sent to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over `PinnedBackend`. httpx 0.28 takes no network backend, so its
    connection pool is replaced by an equal one that has it (``_pool`` is what the transport
    sends through; pinned by tests/integration/notify/test_delivery_adapter.py)."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        super().__init__(trust_env=False)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class Sender:
    """Sends notices to any channel; owns one httpx client that never follows redirects and
    connects only to addresses that passed the SSRF check (`PinnedBackend`)."""

    def __init__(
        self,
        timeout: float,
        allow_private: bool,
        allowed_hosts: Mapping[str, frozenset[str]],
        resolver: Resolver = system_resolver,
    ) -> None:
        self._allow_private = allow_private
        self._allowed_hosts = allowed_hosts
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            transport=_PinnedTransport(PinnedBackend(allow_private, resolver)),
        )

    async def send(
        self, target: Target, msg_id: str, payload: Mapping[str, Any], now: datetime
    ) -> Outcome:
        """One attempt; ``msg_id`` is the same on every retry of a delivery."""
        try:
            hosts = self._allowed_hosts.get(target.kind, frozenset())
            check_url(target.url, self._allow_private, hosts)  # its addresses: PinnedBackend
            url, body, headers = self._request(target, msg_id, payload, now)
        except (UnsafeTarget, ValueError) as exc:
            return Outcome(Verdict.PERMANENT, None, f"target refused: {exc}")
        log.debug(
            "sending notice",
            extra={
                "channel": target.channel,
                "kind": target.kind,
                "url": redact_url(target.url),
                "secret": None if target.secret is None else str(target.secret),
            },
        )
        try:
            # Streamed: a receiver cannot make us buffer a large answer.
            async with self._client.stream("POST", url, content=body, headers=headers) as r:
                status = r.status_code
                retry_after = parse_retry_after(r.headers.get("retry-after"), now)
                answer = await _read_bounded(r) if target.is_robot and status == 200 else b""
        except UnsafeTarget as exc:  # raised by PinnedBackend as it connects
            return Outcome(Verdict.PERMANENT, None, f"target refused: {exc}")
        except httpx.TimeoutException:
            return Outcome(Verdict.RETRY, None, "timeout")
        except httpx.TransportError as exc:
            return Outcome(Verdict.RETRY, None, f"transport error: {type(exc).__name__}")
        if 200 <= status < 300 and target.is_robot:
            return _robot_outcome(status, answer)
        if 200 <= status < 300:
            return Outcome(Verdict.DELIVERED, status, f"HTTP {status}")
        if status in (408, 429) or status >= 500:
            return Outcome(Verdict.RETRY, status, f"HTTP {status}", retry_after)
        return Outcome(Verdict.PERMANENT, status, f"HTTP {status}")

    def _request(
        self, target: Target, msg_id: str, payload: Mapping[str, Any], now: datetime
    ) -> tuple[str, bytes, dict[str, str]]:
        headers = {"content-type": "application/json"}
        secret = None if target.secret is None else target.secret.get_secret_value()
        if target.kind == "webhook":
            if secret is None:
                raise ValueError("a webhook channel needs its whsec_ secret")
            body = _json(payload)
            headers |= signed_headers(secret, msg_id, int(now.timestamp()), body)
            return target.url, body, headers
        title, text = str(payload["title"]), str(payload["text"])
        if target.kind == "wecom":
            return target.url, _json(wecom_message(title, text)), headers
        url = target.url
        if secret is not None:  # DingTalk "加签"
            url = dingtalk_signed_url(url, secret, int(now.timestamp() * 1000))
        return url, _json(dingtalk_message(title, text)), headers

    async def aclose(self) -> None:
        await self._client.aclose()


def _json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()


async def _read_bounded(response: httpx.Response) -> bytes:
    kept = b""
    async for chunk in response.aiter_bytes():
        kept += chunk
        if len(kept) > MAX_ANSWER_BYTES:
            break
    return kept[:MAX_ANSWER_BYTES]


def _robot_outcome(status: int, answer: bytes) -> Outcome:
    try:
        data = json.loads(answer)
    except ValueError:
        return Outcome(Verdict.RETRY, status, "robot answered without JSON")
    verdict = robot_verdict(data)
    detail = f"HTTP {status} errcode {data.get('errcode') if isinstance(data, dict) else '?'}"
    if verdict == "delivered":
        return Outcome(Verdict.DELIVERED, status, detail)
    if verdict == "retry":  # the robot's own rate limit: wait out its minute
        return Outcome(Verdict.RETRY, status, detail, retry_after=60.0)
    return Outcome(Verdict.PERMANENT, status, detail)
