"""``python -m services.ranking``: run the ranking service."""

from services.runtime.service import serve

from .app import build
from .settings import RankingSettings

if __name__ == "__main__":
    settings = RankingSettings()
    app, _ = build(settings)
    serve(app, settings, "ranking")
