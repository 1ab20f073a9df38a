"""The HTTP adapter the commands use: one place that knows URLs, the bearer token, timeouts
and how a refusal or an unreachable service becomes a one-line `CliError`."""

from __future__ import annotations

from typing import Any

import httpx

from cli.config import Config
from cli.errors import CliError, HttpError
from cli.views.text import http_error_message


class Api:
    """Calls the four services; every failure is raised as `CliError` / `HttpError`."""

    def __init__(self, config: Config, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self._http = httpx.Client(
            timeout=config.timeout,
            headers={"Authorization": f"Bearer {config.token}"},
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        auth: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        base = self.config.url(service)
        if not auth:
            kwargs["headers"] = {"Authorization": ""}
        try:
            response = self._http.request(method, base + path, **kwargs)
        except httpx.ConnectError as exc:
            raise CliError(
                f"the {service} service is down or unreachable at {base} ({_reason(exc)});"
                f" start it with `make run` or pass --{service}-url"
            ) from None
        except httpx.TimeoutException:
            raise CliError(
                f"the {service} service at {base} did not answer within {self.config.timeout}s"
            ) from None
        except httpx.HTTPError as exc:
            raise CliError(f"{service} at {base}: {exc}") from None
        if response.status_code >= 400:
            body = _body(response)
            raise HttpError(
                http_error_message(service, response.status_code, body),
                response.status_code,
                body,
            )
        return response

    def get(self, service: str, path: str, **kwargs: Any) -> Any:
        return self.request(service, "GET", path, **kwargs).json()

    def post(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        if body is not None:
            kwargs["json"] = body
        response = self.request(service, "POST", path, **kwargs)
        return response.json() if response.content else None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _reason(exc: httpx.ConnectError) -> str:
    text = str(exc).lower()
    return "connection refused" if "refused" in text or not text else str(exc)
