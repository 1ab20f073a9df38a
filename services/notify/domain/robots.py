"""Group robots that Chinese offices use: WeCom (企业微信) and DingTalk (钉钉).

Both take a markdown message as JSON and answer HTTP 200 with ``errcode`` (0 = sent). DingTalk's
"加签" security setting signs the URL: ``timestamp`` (ms) and ``sign`` = urlencoded
base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")) as query parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "RATE_LIMITED_ERRCODES",
    "SIGNATURE_PARAMS",
    "dingtalk_message",
    "dingtalk_sign",
    "dingtalk_signed_url",
    "pace_key",
    "robot_verdict",
    "wecom_message",
]

# WeCom 45009 "api freq out of limit"; DingTalk 130101 "send too fast".
RATE_LIMITED_ERRCODES = frozenset({45009, 130101})
# Added to a DingTalk URL per send ("加签"): not part of the robot's identity.
SIGNATURE_PARAMS = frozenset({"timestamp", "sign"})


def pace_key(url: str) -> str:
    """The identity of the robot ``url`` sends to, for its rate limit (R5: 20 a minute per
    robot, however many channels share it): scheme, host, port, path and query, without the
    per-send signature, and hashed, because the query holds the robot's key (WeCom ``key``,
    DingTalk ``access_token``), which tells robots apart and must not be stored in the clear."""
    parts = urlsplit(url)
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if k not in SIGNATURE_PARAMS)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    ident = f"{parts.scheme.lower()}://{host}:{port}{parts.path or '/'}?{urlencode(query)}"
    return "robot:" + hashlib.sha256(ident.encode()).hexdigest()[:32]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(key=secret, "{timestamp}\\n{secret}")), before URL encoding."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """``url`` (with its ``access_token``) plus ``timestamp`` and the urlencoded ``sign``."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("timestamp", "sign")]
    query += [("timestamp", str(timestamp_ms)), ("sign", dingtalk_sign(secret, timestamp_ms))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def wecom_message(title: str, text: str) -> dict[str, Any]:
    """A WeCom group robot markdown message (the title as its first, bold line)."""
    return {"msgtype": "markdown", "markdown": {"content": f"## {title}\n{text}"}}


def dingtalk_message(title: str, text: str) -> dict[str, Any]:
    """A DingTalk robot markdown message (``title`` shows in the conversation list)."""
    return {"msgtype": "markdown", "markdown": {"title": title, "text": f"## {title}\n{text}"}}


def robot_verdict(answer: object) -> Literal["delivered", "retry", "permanent"]:
    """What a robot's JSON answer means: errcode 0 sent, a rate-limit code retried later,
    anything else (a wrong key, a blocked keyword) given up."""
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode == 0:
        return "delivered"
    if errcode in RATE_LIMITED_ERRCODES:
        return "retry"
    return "permanent"
