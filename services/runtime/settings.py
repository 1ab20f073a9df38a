"""Base settings: each service subclasses this once with its own ``<SERVICE>_`` prefix.

A service-specific variable (``RANKING_DATABASE_URL``) wins over the shared one
(``DATABASE_URL``); nothing else in the code base reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:54329/postgres"


class SharedSettings(BaseSettings):
    """The variables every service falls back to."""

    model_config = SettingsConfigDict(extra="ignore")

    # URLs may carry credentials (user:password@), so they are secrets: never printed or logged.
    nats_url: SecretStr = SecretStr(DEFAULT_NATS_URL)
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    log_level: str = "INFO"
    # "dev" accepts the documented dev tokens (make run, tests); "production" only the hashed
    # tokens of auth_tokens_file. Safe by default: production.
    auth_mode: Literal["dev", "production"] = "production"
    auth_tokens_file: Path | None = None


class ServiceSettings(BaseSettings):
    """What every service needs; subclasses set ``env_prefix`` and add their own fields."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    nats_url: SecretStr | None = None
    database_url: SecretStr | None = None
    log_level: str | None = None
    auth_mode: Literal["dev", "production"] | None = None
    auth_tokens_file: Path | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(8100, ge=1, le=65535)
    # Larger bodies get 413 before any parsing (spreadsheets of a whole ledger fit easily).
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    # Consumers: JetStream redelivers a nak'ed message after the next delay; at max_deliver the
    # message is dead-lettered (ARCHITECTURE.md "Failures").
    max_deliver: int = Field(5, ge=1, le=100)
    nak_delays_seconds: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
    fetch_batch: int = Field(100, ge=1, le=1000)
    # How long a fetch waits for a batch to fill once its first message is in (nats-py waits
    # for the whole batch until this passes): a lone message waits at most this long.
    fetch_wait_seconds: float = Field(0.5, gt=0, le=30)
    # Batch subscribers (the fetched batches waiting go in one transaction, batches.py) fetch
    # this many, and wait less: at a steady trickle a batch would otherwise fill only at the
    # wait's end (a latency of the wait itself); an idle consumer asks the server 1/wait times
    # a second. 0.02 s, not 0.05: a rectification reached ranking's rates in 20 ms at the
    # median instead of 37 (bench/pipeline.py, HTTP alone). A backlog's fetches end at the
    # wait short of the batch size on a busy machine; the applier takes those waiting together.
    batch_size: int = Field(500, ge=1, le=5000)
    batch_wait_seconds: float = Field(0.02, gt=0, le=30)
    stream_replicas: int = Field(1, ge=1, le=5)  # 3 on the clustered deployment
    ack_wait_seconds: float = Field(60.0, gt=0)
    outbox_poll_seconds: float = Field(0.2, gt=0)
    # Publishes the outbox relay sends before awaiting their acknowledgements (outbox.py). 1
    # keeps the stream in outbox order even when one publish fails and a later one would not;
    # a service whose consumers take its events in any order may pipeline (the issues service).
    outbox_in_flight: int = Field(1, ge=1, le=100)
    db_pool_max: int = Field(20, ge=1, le=200)
    startup_timeout_seconds: float = Field(60.0, gt=0)
    # Applied event ids are forgotten only far past JetStream's redelivery horizon (ack_wait x
    # max_deliver plus the backoff is minutes; a relay outage could republish hours later).
    processed_retention_days: int = Field(30, ge=2)
    maintenance_interval_seconds: float = Field(3600.0, gt=0)
    lag_sample_seconds: float = Field(15.0, gt=0)
    # Test-only fault hooks stay off in every real configuration.
    fault_hooks: frozenset[str] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _fall_back_to_shared(cls, data: Any) -> Any:
        shared = SharedSettings()
        values = dict(data) if isinstance(data, dict) else {}
        values.setdefault("nats_url", None)
        values.setdefault("database_url", None)
        values.setdefault("log_level", None)
        values.setdefault("auth_mode", None)
        values.setdefault("auth_tokens_file", None)
        if values["nats_url"] is None:
            values["nats_url"] = shared.nats_url
        if values["database_url"] is None:
            values["database_url"] = shared.database_url
        if values["log_level"] is None:
            values["log_level"] = shared.log_level
        if values["auth_mode"] is None:
            values["auth_mode"] = shared.auth_mode
        if values["auth_tokens_file"] is None:
            values["auth_tokens_file"] = shared.auth_tokens_file
        return values

    @property
    def nats(self) -> str:
        assert self.nats_url is not None
        return self.nats_url.get_secret_value()

    @property
    def database(self) -> str:
        assert self.database_url is not None
        return self.database_url.get_secret_value()
