"""Where a JetStream delivery sits in its stream, read off its reply subject.

nats-py's ``msg.metadata`` builds every field of the reply (a timestamp, two dataclasses, nine
ints and strings) and cost a third of decoding an event in ranking's consumer, which needs two of
them. The token positions are nats-py's own (``Msg.Ack``); a subject of another shape goes to
``msg.metadata``, which knows them all or raises (tests/unit/runtime/test_positions.py compares
the two on both forms)."""

from __future__ import annotations

from nats.aio.msg import Msg

_V1_TOKENS = 9  # $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>
_V2_TOKENS = 12  # $JS.ACK.<domain>.<account>.<stream>.<consumer>... (nats-server 2.9+ may send)


def stream_position_of(msg: Msg) -> tuple[str, int]:
    """(stream name, stream sequence) of a JetStream delivery; raises for a core NATS message."""
    tokens = msg.reply.split(".") if msg.reply else []
    if tokens[:2] == ["$JS", "ACK"]:
        if len(tokens) == _V1_TOKENS:
            return tokens[2], int(tokens[5])
        if len(tokens) == _V2_TOKENS:
            return tokens[Msg.Ack.Stream], int(tokens[Msg.Ack.StreamSeq])
    metadata = msg.metadata
    return metadata.stream, metadata.sequence.stream
