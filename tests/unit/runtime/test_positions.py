"""A delivery's stream position read off its reply subject equals nats-py's own metadata, in
both forms nats-server writes (services.runtime.positions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError

from services.runtime.positions import stream_position_of

names = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123456789", min_size=1, max_size=20)
counts = st.integers(min_value=0, max_value=2**63 - 1)


def _msg(reply: str) -> Msg:
    return Msg(None, subject="issues.v1.reported", reply=reply, data=b"{}")  # type: ignore[arg-type]


@given(names, names, counts, counts, counts, counts, counts)
def test_the_short_form_gives_what_nats_py_reads(
    stream: str, consumer: str, delivered: int, sseq: int, cseq: int, ns: int, pending: int
) -> None:
    msg = _msg(f"$JS.ACK.{stream}.{consumer}.{delivered}.{sseq}.{cseq}.{ns}.{pending}")
    metadata = _msg(msg.reply).metadata
    assert stream_position_of(msg) == (metadata.stream, metadata.sequence.stream) == (stream, sseq)


@given(names, names, names, counts, counts, counts, counts)
def test_the_form_with_a_domain_and_account_gives_what_nats_py_reads(
    domain: str, account: str, stream: str, sseq: int, cseq: int, ns: int, pending: int
) -> None:
    reply = f"$JS.ACK.{domain}.{account}.{stream}.durable.1.{sseq}.{cseq}.{ns}.{pending}.x7"
    metadata = _msg(reply).metadata
    assert stream_position_of(_msg(reply)) == (metadata.stream, metadata.sequence.stream)
    assert stream_position_of(_msg(reply)) == (stream, sseq)


@pytest.mark.parametrize("reply", ["", "_INBOX.abc", "$JS.ACK.ISSUES.durable.1"])
def test_a_message_that_is_not_a_jetstream_delivery_is_refused(reply: str) -> None:
    with pytest.raises(NotJSMessageError):
        stream_position_of(_msg(reply))
