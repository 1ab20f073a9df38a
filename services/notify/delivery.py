"""What every channel shares (R5): attempt outcomes, the SSRF guard, backoff, Retry-After.

Outcomes: 2xx = delivered; 408/429 (honouring ``Retry-After``), 5xx, timeouts and transport
errors = retry; any other status (redirects are not followed) = permanent failure. The SSRF
guard refuses targets outside the host allow-list or resolving to loopback, private,
link-local or reserved addresses unless ``allow_private`` (dev/test).

The addresses are checked where the connection is made (``channels.PinnedBackend``): the host
is resolved once, every address checked, and the socket opened to a checked address, so a DNS
answer that changes between check and connect (rebinding) cannot reach a private address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
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


# (host, port) -> the addresses it resolves to; injectable so tests can play DNS.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses as the operating system resolves them (an IP literal: itself)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, allow_private: bool, allowed_hosts: frozenset[str] = frozenset()) -> None:
    """Raise `UnsafeTarget` unless ``url`` is http(s) with a host on ``allowed_hosts`` (when
    that is not empty; ``allow_private`` waives the list). No DNS: see `public_addresses`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("the webhook target must be an http(s) URL with a host")
    if allow_private:
        return
    if allowed_hosts and parts.hostname.lower() not in allowed_hosts:
        raise UnsafeTarget(f"{parts.hostname} is not on the channel's host allow-list")


async def public_addresses(host: str, port: int, resolver: Resolver = system_resolver) -> list[str]:
    """The addresses ``host`` resolves to, once; `UnsafeTarget` unless every one is public."""
    try:
        addresses = list(await resolver(host, port))
    except OSError as exc:
        raise UnsafeTarget(f"cannot resolve {host}: {exc}") from None
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise UnsafeTarget(f"{host} resolves to a non-public address")
    return addresses


async def guard_target(
    url: str,
    allow_private: bool,
    allowed_hosts: frozenset[str] = frozenset(),
    resolver: Resolver = system_resolver,
) -> None:
    """Raise `UnsafeTarget` unless ``url`` is http(s), its host is in ``allowed_hosts`` (when
    that is not empty) and every address it resolves to is public; ``allow_private`` (dev and
    tests) waives the last two. A check ahead of time only: the sender connects through
    ``channels.PinnedBackend``, which checks the addresses it actually connects to."""
    check_url(url, allow_private, allowed_hosts)
    if allow_private:
        return
    parts = urlsplit(url)
    assert parts.hostname is not None
    await public_addresses(parts.hostname, parts.port or 443, resolver)


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
