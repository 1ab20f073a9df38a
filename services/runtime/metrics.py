"""Prometheus metrics every service exposes on ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HANDLED = Counter("chuangwen_messages_handled_total", "Messages applied", ["subject"])
FAILED = Counter("chuangwen_messages_failed_total", "Handler failures (nak'ed)", ["subject"])
DEAD_LETTERED = Counter(
    "chuangwen_messages_dead_lettered_total", "Messages sent to the DLQ", ["subject", "reason"]
)
CONSUMER_LAG = Gauge(
    "chuangwen_consumer_pending", "Messages not yet delivered to a durable consumer", ["durable"]
)
OUTBOX_PUBLISHED = Counter("chuangwen_outbox_published_total", "Outbox rows published")
OUTBOX_PARKED = Counter(
    "chuangwen_outbox_parked_total", "Outbox rows given up after too many failed publishes"
)
HTTP_LATENCY = Histogram(
    "chuangwen_http_request_seconds", "HTTP request latency", ["method", "route", "status"]
)
BATCH_MESSAGES = Histogram(
    "chuangwen_batch_messages",
    "Messages a batch consumer applied in one transaction (the fetched batches waiting)",
    ["batch"],
    buckets=(1, 2, 5, 10, 25, 50, 100, 200, 500, 1000, 2000, 5000),
)
