"""What every channel shares (R5): attempt outcomes, the SSRF guard, backoff, Retry-After.

Outcomes: 2xx = delivered; 408/429 (honouring ``Retry-After``), 5xx, timeouts and transport
errors = retry; any other status (redirects are not followed) = permanent failure. The SSRF
guard refuses targets outside the host allow-list or resolving to loopback, private,
link-local or reserved addresses unless ``allow_private`` (dev/test).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import urlsplit


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


async def guard_target(
    url: str, allow_private: bool, allowed_hosts: frozenset[str] = frozenset()
) -> None:
    """Raise `UnsafeTarget` unless ``url`` is http(s), its host is in ``allowed_hosts`` (when
    that is not empty) and every address it resolves to is public; ``allow_private`` (dev and
    tests) waives the last two."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("the webhook target must be an http(s) URL with a host")
    if allow_private:
        return
    if allowed_hosts and parts.hostname.lower() not in allowed_hosts:
        raise UnsafeTarget(f"{parts.hostname} is not on the channel's host allow-list")
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
