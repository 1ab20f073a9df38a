"""Where the services and NATS are, and who we are (global options and their variables)."""

from __future__ import annotations

from dataclasses import dataclass, field

SERVICES = ("issues", "ranking", "notify", "incentives")
DEFAULT_PORTS = {"issues": 8101, "ranking": 8102, "notify": 8103, "incentives": 8104}
DEFAULT_TOKEN = "dev-office"  # noqa: S105 - the documented dev token (AUTH_MODE=dev)
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
TIMEZONE = "Asia/Shanghai"


def default_url(service: str) -> str:
    return f"http://127.0.0.1:{DEFAULT_PORTS[service]}"


@dataclass(frozen=True)
class Config:
    """The global options: service URLs, bearer token, NATS URL, HTTP timeout in seconds."""

    urls: dict[str, str] = field(default_factory=lambda: {s: default_url(s) for s in SERVICES})
    token: str = DEFAULT_TOKEN
    nats_url: str = DEFAULT_NATS_URL
    timeout: float = 60.0

    def url(self, service: str) -> str:
        return self.urls[service].rstrip("/")
