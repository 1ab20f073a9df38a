"""Settings of the notify service (``NOTIFY_*``, falling back to ``NATS_URL``/``DATABASE_URL``)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.contracts.base import Url
from services.runtime.settings import ServiceSettings

from .domain.webhook_signature import secret_bytes


class NotifySettings(ServiceSettings):
    """One settings class for the service (STYLE.md 4); the webhook secret is a ``SecretStr``."""

    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore", frozen=True)

    http_port: int = Field(8103, ge=1, le=65535)
    # v1: one generic receiver for every notice (R5); None = deliveries are marked skipped.
    webhook_url: Url | None = None
    # Standard Webhooks key, ``whsec_<base64>``; required whenever a receiver is configured.
    webhook_secret: SecretStr | None = None
    delivery_attempts: int = Field(5, ge=1, le=50)
    delivery_timeout_seconds: float = Field(5.0, gt=0, le=60)
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(3600.0, gt=0)
    retry_after_max_seconds: float = Field(3600.0, gt=0)
    delivery_poll_seconds: float = Field(1.0, gt=0)
    delivery_batch: int = Field(50, ge=1, le=500)
    # SSRF guard: loopback/private/link-local targets are refused unless allowed (dev/test),
    # and so is any host not on its kind's allow-list (an empty list allows any public host).
    allow_private_targets: bool = False
    webhook_hosts: frozenset[str] = frozenset()
    wecom_hosts: frozenset[str] = frozenset({"qyapi.weixin.qq.com"})
    dingtalk_hosts: frozenset[str] = frozenset({"oapi.dingtalk.com"})
    # WeCom and DingTalk robots take 20 messages a minute each: queued and paced, never dropped.
    robot_rate_limit: int = Field(20, ge=1, le=1000)
    robot_rate_window_seconds: float = Field(60.0, gt=0)
    reminder_batch: int = Field(100, ge=1, le=1000)
    # How long each issue subject's consumer waits for its batch to fill. A notice can wait a
    # tenth of a second; shorter means eight consumers each committing small batches many times
    # a second, longer a burst of hundreds at once (measured at 1,000 events/s: both slowed the
    # ranking beside it, bench/pipeline.py), and an idle consumer asks the server 1/wait a second.
    issue_batch_wait_seconds: float = Field(0.1, gt=0, le=30)

    @property
    def allowed_hosts(self) -> dict[str, frozenset[str]]:
        return {
            "webhook": self.webhook_hosts,
            "wecom": self.wecom_hosts,
            "dingtalk": self.dingtalk_hosts,
        }

    @model_validator(mode="after")
    def _receiver_needs_a_key(self) -> Self:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("NOTIFY_WEBHOOK_SECRET is required when NOTIFY_WEBHOOK_URL is set")
        if self.webhook_secret is not None:
            try:
                secret_bytes(self.webhook_secret.get_secret_value())
            except ValueError:
                # Never echo the value: only say what is wrong with its shape.
                raise ValueError("NOTIFY_WEBHOOK_SECRET must be whsec_<base64>") from None
        return self
