"""Standard Webhooks signatures on outgoing notices."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.domain.webhook_signature import (
    WebhookVerificationError,
    secret_bytes,
    sign,
    signed_headers,
    verify,
)

KEY = b"chuangwen-test-key-0123456789abc"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
BODY = '{"type":"criticism","unit_id":"dist-pengjiang"}'
TS = 1_528_070_400


def test_signature_matches_an_hmac_computed_by_hand() -> None:
    # v1, + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))
    by_hand = hmac.new(KEY, f"msg_1.{TS}.{BODY}".encode(), hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(by_hand).decode()
    assert sign(SECRET, "msg_1", TS, BODY) == expected
    assert sign(KEY, "msg_1", TS, BODY.encode()) == expected
    assert signed_headers(SECRET, "msg_1", TS, BODY) == {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(TS),
        "webhook-signature": expected,
    }


def test_signature_matches_the_published_standard_webhooks_vector() -> None:
    # The example from the Standard Webhooks / Svix reference libraries' tests.
    assert (
        sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            '{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_verify_accepts_a_signed_delivery_with_any_header_case_and_rotated_keys() -> None:
    headers = signed_headers(SECRET, "msg_1", TS, BODY)
    verify(SECRET, headers, BODY, now=TS + 299)
    rotated = {
        "Webhook-Id": "msg_1",
        "Webhook-Timestamp": str(TS),
        "Webhook-Signature": "v1,b2xk " + headers["webhook-signature"],
    }
    verify(SECRET, rotated, BODY.encode(), now=TS - 299)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"webhook-id": "msg_2"}, "no matching"),
        ({"webhook-timestamp": str(TS + 1)}, "no matching"),
        ({"webhook-timestamp": "0" + str(TS)}, "canonical"),
        ({"webhook-timestamp": "-5"}, "unix seconds"),
        ({"webhook-signature": "v1,AAAA"}, "no matching"),
    ],
)
def test_verify_rejects_tampered_headers(change: dict[str, str], message: str) -> None:
    headers = {**signed_headers(SECRET, "msg_1", TS, BODY), **change}
    with pytest.raises(WebhookVerificationError, match=message):
        verify(SECRET, headers, BODY, now=TS)


def test_verify_rejects_a_changed_body_a_missing_header_and_an_old_delivery() -> None:
    headers = signed_headers(SECRET, "msg_1", TS, BODY)
    with pytest.raises(WebhookVerificationError, match="no matching"):
        verify(SECRET, headers, BODY + " ", now=TS)
    with pytest.raises(WebhookVerificationError, match="missing header webhook-signature"):
        verify(SECRET, {k: v for k, v in headers.items() if k != "webhook-signature"}, BODY, TS)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(SECRET, headers, BODY, now=TS + 301)


@pytest.mark.parametrize("secret", ["plain-secret", "whsec_", "whsec_not base64!", b""])
def test_malformed_secrets_are_refused(secret: str | bytes) -> None:
    with pytest.raises(ValueError, match=r"whsec_|base64|empty"):
        secret_bytes(secret)


@given(st.binary(min_size=1, max_size=64), st.text(min_size=1, max_size=20), st.binary())
def test_whatever_is_signed_verifies(key: bytes, msg_id: str, body: bytes) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    verify(secret, signed_headers(secret, msg_id, TS, body), body, now=TS)
    verify(key, signed_headers(key, msg_id, TS, body), body, now=TS)
