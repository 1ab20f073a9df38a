"""Standard Webhooks signatures for outgoing notices (https://www.standardwebhooks.com/).

A delivery carries ``webhook-id``, ``webhook-timestamp`` (unix seconds) and ``webhook-signature``
= ``v1,`` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")). Receivers use any Standard
Webhooks library to check it; `verify` is the same check, for our own tests and for callbacks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "KEY_PREFIX",
    "WebhookVerificationError",
    "secret_bytes",
    "sign",
    "signed_headers",
    "verify",
]

KEY_PREFIX = "whsec_"
# The spec's recommended window against replays: five minutes either way.
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(ValueError):
    """The delivery is not signed with the secret, or is outside the time window."""


def secret_bytes(secret: str | bytes) -> bytes:
    """The HMAC key: ``whsec_<base64>`` is decoded after the prefix; bytes are used as they are.

    A string without the prefix is refused rather than guessed at (raw key or base64?).
    """
    if isinstance(secret, bytes):
        key = secret
    elif secret.startswith(KEY_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(KEY_PREFIX), validate=True)
        except binascii.Error as exc:
            raise ValueError("the part after whsec_ is not valid base64") from exc
    else:
        raise ValueError("a string secret must start with whsec_")
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def sign(secret: str | bytes, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``webhook-signature`` value for one delivery: ``v1,<base64 HMAC-SHA256>``."""
    payload = body.encode() if isinstance(body, str) else body
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    secret: str | bytes, msg_id: str, timestamp: int, body: bytes | str
) -> dict[str, str]:
    """The three headers of a Standard Webhooks delivery."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes | str,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise `WebhookVerificationError` unless one of the ``v1`` signatures matches and the
    timestamp is within ``tolerance`` seconds of ``now`` (unix seconds, passed in).

    Header names are matched case-insensitively; ``webhook-signature`` may list several
    space-separated signatures (key rotation), of which one must match.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        msg_id = lowered["webhook-id"]
        timestamp_text = lowered["webhook-timestamp"]
        signatures = lowered["webhook-signature"]
    except KeyError as exc:
        raise WebhookVerificationError(f"missing header {exc.args[0]}") from None
    # The signed content holds the header text; only the canonical spelling can match it.
    if not timestamp_text.isascii() or not timestamp_text.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not unix seconds")
    timestamp = int(timestamp_text)
    if str(timestamp) != timestamp_text:
        raise WebhookVerificationError("webhook-timestamp is not in canonical form")
    if abs(now - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance window")
    expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    for candidate in signatures.split():
        if hmac.compare_digest(candidate.encode("ascii", "replace"), expected):
            return
    raise WebhookVerificationError("no matching v1 signature")
