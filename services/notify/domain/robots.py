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
    "dingtalk_message",
    "dingtalk_sign",
    "dingtalk_signed_url",
    "robot_verdict",
    "wecom_message",
]

# WeCom 45009 "api freq out of limit"; DingTalk 130101 "send too fast".
RATE_LIMITED_ERRCODES = frozenset({45009, 130101})


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
