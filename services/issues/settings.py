"""Settings of the issues service (``ISSUES_*``, falling back to ``NATS_URL``/``DATABASE_URL``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings

from .rules import DEFAULT_RULES_FILE


class IssuesSettings(ServiceSettings):
    """One settings class for the service (STYLE.md 4)."""

    model_config = SettingsConfigDict(env_prefix="ISSUES_", extra="ignore", frozen=True)

    http_port: int = Field(8101, ge=1, le=65535)
    number_prefix: str = Field("JM", pattern=r"^[A-Z]{1,10}$")
    # R2.2, R2.4, R2.5: the versioned rules file (``ISSUES_RULES_FILE``).
    rules_file: Path = DEFAULT_RULES_FILE
    # Largest ordinary JSON request; spreadsheets and backfills (a city's ledger) may be larger,
    # up to max_upload_bytes. The runtime's max_body_bytes (10 MiB) is the streamed hard cap.
    max_json_bytes: int = Field(64 * 1024, ge=1024)
    max_upload_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    # Its consumers take issue events in any order (ranking's facts, R3; notify's and the
    # others' idempotent handlers), so the relay sends a whole batch before awaiting the
    # stream's acknowledgements: one round trip a batch (outbox.py, docs/decisions.md).
    outbox_in_flight: int = Field(100, ge=1, le=100)
    # The overdue scheduler runs inside every replica unless switched off (tests drive it).
    scheduler_enabled: bool = True
