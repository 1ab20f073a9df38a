"""Durable consumers take the settings of the code that runs them, not of the first version that
created them.

FastStream (through nats-py's ``pull_subscribe``) creates a durable consumer when it is missing
and binds to it as it is otherwise, so a durable made by an earlier release keeps that release's
``max_ack_pending`` or ``ack_wait`` for good: a batch consumer whose batches in hand grew
(`batches.in_hand`) would fetch less than it may hold, and a changed ``ACK_WAIT_SECONDS`` would
never reach the server. At start, before the subscribers bind, `apply_consumer_settings` updates
the settings that JetStream lets a consumer change (the subject filter, the delivery policy and
the like never change; nothing else is touched).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from nats.js.api import ConsumerConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)

# What the runtime sets on its durables and JetStream allows to change on an existing one.
UPDATABLE = ("ack_wait", "max_ack_pending", "max_deliver")


def changed_settings(current: ConsumerConfig, wanted: ConsumerConfig) -> dict[str, object]:
    """The `UPDATABLE` settings of ``wanted`` (those it sets) that ``current`` does not have."""
    changes = {}
    for name in UPDATABLE:
        value = getattr(wanted, name)
        if value is None:
            continue
        have = getattr(current, name)
        if name == "ack_wait":
            # The server keeps nanoseconds: nats-py sends int(seconds * 1e9) and gives back
            # nanoseconds / 1e9, so 4.1 s is stored as 4099999999 ns and reads 4.099999999.
            same = have is not None and round(have * 1e9) == int(value * 1e9)
        else:
            same = have == value
        if not same:
            changes[name] = value
    return changes


async def apply_consumer_settings(
    js: JetStreamContext, wanted: Mapping[tuple[str, str], ConsumerConfig]
) -> None:
    """Bring each existing durable of ``wanted`` (``(stream, durable) -> config``) to its
    `UPDATABLE` settings; a missing one is left to its subscriber, which creates it. A durable
    that cannot be updated now (a cluster without quorum, say) keeps its settings and the
    service starts anyway: binding to it is what the subscriber did before this existed."""
    for (stream, durable), config in wanted.items():
        where = {"stream": stream, "durable": durable}
        try:
            info = await js.consumer_info(stream, durable)
            changes = changed_settings(info.config, config)
            if changes:
                await js.add_consumer(stream, config=dataclasses.replace(info.config, **changes))
        except NotFoundError:
            continue
        except Exception as exc:
            log.warning("consumer settings not updated: kept", extra=where, exc_info=exc)
            continue
        if changes:
            log.info(
                "consumer settings updated",
                extra={**where, **{name: str(value) for name, value in changes.items()}},
            )
