"""``python -m services.incentives``: run the incentives service."""

from pydantic import ValidationError

from services.runtime.service import serve

from .app import build
from .settings import IncentivesSettings

if __name__ == "__main__":
    try:
        settings = IncentivesSettings()
    except ValidationError as exc:
        # R6.1/R6.2: inconsistent fund numbers stop the service before it touches any money.
        raise SystemExit(f"incentives: not started, invalid settings:\n{exc}") from None
    app, _ = build(settings)
    serve(app, settings, "incentives")
