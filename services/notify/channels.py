"""The channel adapters over httpx (R5): a generic webhook signed per Standard Webhooks, the
WeCom group robot and the DingTalk robot with its signed URL.

Secrets (webhook keys, robot keys in URLs, DingTalk signing secrets) stay ``SecretStr`` and
never reach a log: URLs are logged with their query values masked, secrets as the redaction
marker, and httpx's own request log is filtered the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from .delivery import Outcome, UnsafeTarget, Verdict, guard_target, parse_retry_after
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
    """Where one delivery goes; ``channel`` names it (and its rate limit)."""

    channel: str
    kind: ChannelKind
    url: str = field(repr=False)
    secret: SecretStr | None = None

    @property
    def is_robot(self) -> bool:
        return self.kind != "webhook"


class Sender:
    """Sends notices to any channel; owns one httpx client that never follows redirects."""

    def __init__(
        self,
        timeout: float,
        allow_private: bool,
        allowed_hosts: Mapping[str, frozenset[str]],
    ) -> None:
        self._allow_private = allow_private
        self._allowed_hosts = allowed_hosts
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False
        )

    async def send(
        self, target: Target, msg_id: str, payload: Mapping[str, Any], now: datetime
    ) -> Outcome:
        """One attempt; ``msg_id`` is the same on every retry of a delivery."""
        try:
            hosts = self._allowed_hosts.get(target.kind, frozenset())
            await guard_target(target.url, self._allow_private, hosts)
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
