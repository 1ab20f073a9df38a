"""The webhook adapter (R5): POST the notice as JSON with Standard Webhooks headers.

Outcomes: 2xx = delivered; 408/429 (honouring ``Retry-After``), 5xx, timeouts and transport
errors = retry; any other status (redirects are not followed) = permanent failure. The SSRF
guard refuses targets that resolve to loopback, private, link-local or reserved addresses
unless ``allow_private`` (dev/test).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from .domain.webhook_signature import signed_headers

log = logging.getLogger(__name__)


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Outcome:
    """One attempt's result; ``retry_after`` is the receiver's own wish, in seconds."""

    verdict: Verdict
    status_code: int | None
    detail: str
    retry_after: float | None = None


class UnsafeTarget(ValueError):
    """The webhook target is not an http(s) URL to a public address."""


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, multicast, reserved and unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def guard_target(url: str, allow_private: bool) -> None:
    """Raise `UnsafeTarget` unless ``url`` is http(s) and every address it resolves to is
    public (or ``allow_private``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("the webhook target must be an http(s) URL with a host")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise UnsafeTarget(f"cannot resolve {parts.hostname}: {exc}") from None
    addresses = {str(info[4][0]) for info in infos}
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise UnsafeTarget(f"{parts.hostname} resolves to a non-public address")


def backoff_seconds(attempt: int, base: float, cap: float, jitter: float) -> float:
    """Exponential backoff after the ``attempt``-th failure, with ``jitter`` in [0, 1) spreading
    the delay over its upper half so retries from many deliveries do not arrive together."""
    delay = min(cap, base * 2 ** (attempt - 1))
    return float(delay * (0.5 + jitter / 2))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


class WebhookSender:
    """Sends signed notices to one receiver; owns its httpx client."""

    def __init__(self, url: str, secret: SecretStr, timeout: float, allow_private: bool) -> None:
        self._url = url
        self._secret = secret
        self._allow_private = allow_private
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False
        )

    async def send(self, msg_id: str, body: bytes, now: datetime) -> Outcome:
        """POST ``body``; ``msg_id`` is the ``webhook-id``, the same on every retry."""
        try:
            await guard_target(self._url, self._allow_private)
        except UnsafeTarget as exc:
            return Outcome(Verdict.PERMANENT, None, f"target refused: {exc}")
        headers = signed_headers(
            self._secret.get_secret_value(), msg_id, int(now.timestamp()), body
        )
        headers["content-type"] = "application/json"
        try:
            # Streamed and never read: a receiver cannot make us buffer a large answer.
            async with self._client.stream("POST", self._url, content=body, headers=headers) as r:
                status = r.status_code
                retry_after = parse_retry_after(r.headers.get("retry-after"), now)
        except httpx.TimeoutException:
            return Outcome(Verdict.RETRY, None, "timeout")
        except httpx.TransportError as exc:
            return Outcome(Verdict.RETRY, None, f"transport error: {type(exc).__name__}")
        if 200 <= status < 300:
            return Outcome(Verdict.DELIVERED, status, f"HTTP {status}")
        if status in (408, 429):
            return Outcome(Verdict.RETRY, status, f"HTTP {status}", retry_after)
        if status >= 500:
            return Outcome(Verdict.RETRY, status, f"HTTP {status}", retry_after)
        return Outcome(Verdict.PERMANENT, status, f"HTTP {status}")

    async def aclose(self) -> None:
        await self._client.aclose()
