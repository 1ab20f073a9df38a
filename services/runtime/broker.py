"""The NATS side of a service: broker factory, stream provisioning, publishers, subscribers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from faststream import AckPolicy
from faststream.context import Context as ContextField
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsMessage as NatsMessageClass
from faststream.nats.publisher.usecase import LogicPublisher
from nats.js.api import (
    ConsumerConfig,
    DeliverPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.client import JetStreamContext
from nats.js.errors import BadRequestError

from services.contracts.dead_letter import DeadLetter
from services.contracts.envelope import Event
from services.contracts.streams import (
    DLQ,
    DUPLICATE_WINDOW_SECONDS,
    MAX_PAYLOAD_BYTES,
    StreamSpec,
    dead_letter_subject,
    stream_for_subject,
)

from . import metrics, nats_timeouts
from .batches import in_hand
from .consumer_settings import apply_consumer_settings
from .dead_letters import DeadLetterSender, dead_letter_middleware
from .outbox import Outgoing
from .settings import ServiceSettings

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 10.0  # seconds for JetStream's acknowledgement of a publish
PUBLISH_IN_FLIGHT_MAX = 1000  # asynchronous publishes a connection has unacknowledged at most

# What ``subscriber`` and friends return: FastStream's decorator for a handler.
Decorator = Callable[[Callable[..., Awaitable[Any]]], Any]


class Bus:
    """One service's broker, its declared publishers and the raw publish the outbox uses."""

    def __init__(self, service: str, settings: ServiceSettings) -> None:
        nats_timeouts.install()  # or FastStream's fetch loops lose fetched messages
        self.service = service
        self.settings = settings
        self.broker = NatsBroker(
            settings.nats,
            # Never give up: nats-py stops after 60 reconnect attempts by default.
            max_reconnect_attempts=-1,
            reconnect_time_wait=2,
            # Per-message logs cost ~40% of throughput at INFO.
            log_level=logging.DEBUG,
            graceful_timeout=30.0,
            # FastStream's own records go through our JSON handler on the root logger.
            logger=logging.getLogger("faststream"),
            middlewares=(
                dead_letter_middleware(
                    service,
                    lambda: self.publish_raw,
                    self._after_dead_letter,
                    settings.max_deliver,
                    settings.nak_delays_seconds,
                ),
            ),
        )
        self.dead_letters = DeadLetterSender(
            service, lambda: self.publish_raw, self._after_dead_letter
        )
        self.publishers: dict[str, LogicPublisher] = {}
        self._js: tuple[Any, JetStreamContext] | None = None  # (connection, its context)
        # (stream, durable) of every consumer -> what it is created with (`consumer_settings`).
        self.consumer_configs: dict[tuple[str, str], ConsumerConfig] = {}
        self.commands: list[str] = []  # request-reply subjects this service answers
        # Called after a message was dead-lettered, e.g. to count its stream position as
        # handled (ranking's input positions, R7).
        self.dead_letter_hooks: list[Callable[[DeadLetter], Awaitable[None]]] = []

    async def _after_dead_letter(self, letter: DeadLetter) -> None:
        for hook in self.dead_letter_hooks:
            await hook(letter)

    # -- declarations (they also feed the AsyncAPI document) ---------------------------------
    def publisher(self, model: type[Event]) -> LogicPublisher:
        """Declare that this service publishes ``model`` on its contract subject."""
        pub = self.broker.publisher(
            model.SUBJECT,
            schema=model,
            stream=JStream(stream_for_subject(model.SUBJECT).name, declare=False),
            title=f"{model.SUBJECT}:publish",
            description=(model.__doc__ or "").strip(),
        )
        self.publishers[model.SUBJECT] = pub
        return pub

    def dead_letter_publisher(self) -> LogicPublisher:
        """Declare ``dlq.<service>`` (so the AsyncAPI document shows the service's dead letters)
        and let the outbox publish entries a use case stages there itself."""
        subject = dead_letter_subject(self.service)
        pub = self.broker.publisher(
            subject,
            schema=DeadLetter,
            stream=JStream(DLQ.name, declare=False),
            title=f"{subject}:publish",
            description=(DeadLetter.__doc__ or "").strip(),
        )
        self.publishers[subject] = pub
        return pub

    def subscriber(
        self,
        model: type[Event],
        *,
        fact: str | None = None,
        batch: bool = False,
        batch_wait: float | None = None,
    ) -> Decorator:
        """A durable pull consumer of ``model``'s subject, named ``<service>-<fact>``.

        Every durable is unique: two subscribers sharing one silently lose messages.
        ``batch``: as for `stream_subscriber` (the handler's first parameter is
        ``list[model]``, for the AsyncAPI document only); ``batch_wait`` instead of the
        settings' ``batch_wait_seconds``, for a consumer whose latency matters less than what
        its idle polling costs.
        """
        name = f"{self.service}-{fact or model.SUBJECT.replace('.', '-')}"
        spec = stream_for_subject(model.SUBJECT)
        doc = (model.__doc__ or "").strip()
        return self._pull(model.SUBJECT, spec, name, doc, batch, batch_wait)

    @property
    def durables(self) -> list[tuple[str, str]]:
        """(stream, durable) of every consumer of this service."""
        return list(self.consumer_configs)

    def stream_subscriber(
        self,
        spec: StreamSpec,
        description: str,
        *,
        batch: bool = False,
        batch_wait: float | None = None,
    ) -> Decorator:
        """One durable pull consumer of everything on ``spec``'s stream, named
        ``<service>-<stream>``; its handler dispatches by event type. Use it where every
        position of the stream must be accounted for (ranking's input positions, R7).

        ``batch``: the handler gets each fetched batch whole (``msg: JsMessage`` holds the
        NATS messages, see `batches.raw_messages`) and applies the failure policy to each
        message itself with `batches.BatchApplier`; FastStream neither decodes nor acks. Its
        first parameter is typed with what the stream carries (``list[Event]``) for the AsyncAPI
        document only: FastStream is given nothing to validate against it. ``batch_wait``
        overrides ``batch_wait_seconds`` for this consumer."""
        name = f"{self.service}-{spec.name.lower()}"
        return self._pull(">", spec, name, description, batch, batch_wait)

    def _pull(
        self,
        subject: str,
        spec: StreamSpec,
        name: str,
        description: str,
        batch: bool = False,
        batch_wait: float | None = None,
    ) -> Decorator:
        size, wait = self.settings.fetch_batch, self.settings.fetch_wait_seconds
        extra: dict[str, Any] = {}
        if batch:
            extra = {"decoder": _left_to_the_handler, "ack_policy": AckPolicy.MANUAL}
            size = self.settings.batch_size
            wait = self.settings.batch_wait_seconds if batch_wait is None else batch_wait
        config = ConsumerConfig(
            durable_name=name,
            ack_wait=self.settings.ack_wait_seconds,
            # Our middleware decides when to give up; the server must never drop first.
            max_deliver=-1,
            deliver_policy=DeliverPolicy.ALL,
            # Per message: FastStream runs a fetched batch concurrently, and one batch in
            # flight keeps the handlers within the database pool. Batches: those applied,
            # waiting and being handed over (`batches.in_hand`).
            max_ack_pending=in_hand(size) if batch else size,
        )
        self.consumer_configs[(spec.name, name)] = config
        return self.broker.subscriber(
            subject,
            stream=JStream(spec.name, declare=False),
            durable=name,
            pull_sub=PullSub(batch_size=size, timeout=wait, batch=batch),
            **({"ack_policy": AckPolicy.NACK_ON_ERROR} | extra),
            config=config,
            title=f"{spec.name}:{name}" if subject == ">" else f"{subject}:{name}",
            description=description,
        )

    def command(self, subject: str, description: str) -> Decorator:
        """A request-reply command handler on core NATS (no stream captures ``cmd.>``); the
        replicas of a service share the work through a queue group."""
        self.commands.append(subject)
        return self.broker.subscriber(
            subject, queue=self.service, title=f"{subject}:{self.service}", description=description
        )

    # -- runtime -----------------------------------------------------------------------------
    async def connect(self, within_seconds: float) -> None:
        """Connect, retrying until ``timeout``: NATS may come up after the service."""
        deadline = time.monotonic() + within_seconds
        while True:
            try:
                await self.broker.connect()
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"NATS not reachable after {within_seconds}s: {exc}"
                    ) from exc
                await asyncio.sleep(0.5)

    async def provision(self, specs: tuple[StreamSpec, ...]) -> None:
        """Create or update the streams (idempotent; every service may run this at start)."""
        jsm = self.broker.connection.jetstream()
        for spec in specs:
            config = StreamConfig(
                name=spec.name,
                subjects=list(spec.subjects),
                description=spec.description,
                storage=StorageType.FILE,
                max_msg_size=MAX_PAYLOAD_BYTES,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
                num_replicas=self.settings.stream_replicas,
            )
            try:
                await jsm.add_stream(config)
            except BadRequestError as exc:
                if exc.err_code != 10058:  # stream name already in use with another config
                    raise
                # Only the owner changes a stream's configuration (replicas, limits); the
                # others merely make sure it exists so that they can start first.
                if spec.owner == self.service:
                    await jsm.update_stream(config)

    async def update_consumers(self) -> None:
        """Give this service's existing durables the settings it creates them with (before
        its subscribers bind to them: `consumer_settings`)."""
        js = self.broker.connection.jetstream()
        await apply_consumer_settings(js, self.consumer_configs)

    async def publish_events(
        self, batch: Sequence[Outgoing], before_send: Callable[[], None] = lambda: None
    ) -> list[int | Exception]:
        """The outbox relay's path: each (subject, payload, msg_id) of ``batch`` to its declared
        publisher's stream, all of them sent before any acknowledgement is awaited (one round
        trip for the batch, not one per message); for each, in order, the stream sequence or
        why it was not stored. ``before_send`` is called just before each message is sent (the
        relay's fault point). While NATS is away nats-py buffers the messages until it has
        reconnected (acknowledged then, if within the timeout). Sending stops at a message
        that cannot be sent (a subject this service declares no publisher for, the reconnect
        buffer full): it and those after it fail, unsent."""
        js = self._async_jetstream()
        pending: list[asyncio.Future[Any]] = []
        stopped: Exception | None = None
        for subject, payload, msg_id in batch:
            if subject not in self.publishers:  # our own bug: say so, send nothing after it
                stopped = LookupError(f"{self.service} declares no publisher for {subject}")
                break
            headers = {"Nats-Msg-Id": msg_id, "content-type": "application/json"}
            stream = stream_for_subject(subject).name  # refused if it is not that stream's
            before_send()
            try:
                sent = await js.publish_async(
                    subject, payload, wait_stall=PUBLISH_TIMEOUT, stream=stream, headers=headers
                )
            except Exception as exc:  # the connection dropped meanwhile, or its buffer is full
                _release_unsent(js, pending)
                task = asyncio.current_task()
                if task is not None and task.cancelling():  # nats-py turns a cancel into
                    raise asyncio.CancelledError from exc  # TooManyStalledMsgsError
                stopped = exc
                break
            pending.append(sent)
        try:
            if pending:
                await asyncio.wait(pending, timeout=PUBLISH_TIMEOUT)
        finally:  # also when cancelled: an unanswered future would hold its slot for good
            for future in pending:
                if not future.done():
                    future.cancel()
        results = [_publish_result(future) for future in pending]
        if stopped is not None:
            results += [stopped] * (len(batch) - len(results))
        return results

    def _async_jetstream(self) -> JetStreamContext:
        """The outbox relay's JetStream context, one per connection: its asynchronous
        publishes share one reply subscription (a context per call would subscribe again each
        time). The relay is its only user (`_release_unsent` relies on it)."""
        connection = self.broker.connection
        if self._js is None or self._js[0] is not connection:
            context = connection.jetstream(publish_async_max_pending=PUBLISH_IN_FLIGHT_MAX)
            self._js = (connection, context)
        return self._js[1]

    async def sample_lag(self) -> None:
        """Set the consumer-lag gauge for each of this service's durables."""
        jsm = self.broker.connection.jetstream()
        for stream, durable in self.durables:
            info = await jsm.consumer_info(stream, durable)
            metrics.CONSUMER_LAG.labels(durable).set(info.num_pending or 0)

    async def publish_raw(self, subject: str, payload: bytes, msg_id: str) -> int:
        """Publish to JetStream with ``Nats-Msg-Id`` and wait for the stream's ack."""
        js = self.broker.connection.jetstream()
        ack = await js.publish(
            subject,
            payload,
            headers={"Nats-Msg-Id": msg_id, "content-type": "application/json"},
            timeout=10,
        )
        return int(ack.seq)


def _publish_result(future: asyncio.Future[Any]) -> int | Exception:
    """The stream sequence of an asynchronous publish, or why there is none."""
    if future.cancelled():  # by `publish_events`: no ack in time (a lost connection, too)
        return TimeoutError(f"no ack from JetStream in {PUBLISH_TIMEOUT} s")
    error = future.exception()
    if error is None:
        return int(future.result().seq)
    return error if isinstance(error, Exception) else RuntimeError(repr(error))


def _release_unsent(js: JetStreamContext, sent: list[asyncio.Future[Any]]) -> None:
    """nats-py's ``publish_async`` takes a slot of its in-flight limit and registers its
    future before it sends; when the send raises, that future is never returned nor resolved
    and would hold its slot for the life of the connection (after a thousand failures every
    publish would stall). Cancel the futures of ``js`` that were never handed out: their
    done-callback gives the slots back."""
    registered = getattr(js, "_publish_async_futures", None) or {}
    for future in list(registered.values()):
        if future not in sent:
            future.cancel()


class _MessageContext(ContextField):
    """FastStream's ``Context`` resolved without a thread: fast_depends runs a synchronous
    ``use`` in a worker thread for every message (measured: several thread hops per message,
    a large share of a consumer's time); this one is a coroutine, so it runs inline."""

    async def use(self, /, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return super().use(**kwargs)


# A handler's parameter for the message being handled (its JetStream metadata, headers):
# ``msg: JsMessage`` instead of ``msg: NatsMessage``.
JsMessage = Annotated[NatsMessageClass, _MessageContext("message")]


async def _left_to_the_handler(msg: Any, original: Any = None) -> list[Any]:
    """A batch subscriber's decoder: nothing for FastStream to validate. One invalid message
    must not fail its whole batch, so the handler decodes each one (`batches.BatchApplier`)."""
    return []
