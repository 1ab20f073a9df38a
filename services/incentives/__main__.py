"""``python -m services.incentives``: run the incentives service."""

from services.runtime.service import serve

from .app import build
from .settings import IncentivesSettings

if __name__ == "__main__":
    settings = IncentivesSettings()
    app, _ = build(settings)
    serve(app, settings, "incentives")
