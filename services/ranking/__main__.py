"""``python -m services.ranking``: run the ranking service."""

import sys

from services.runtime.service import serve

from .app import build
from .rule_book import InvalidRules
from .settings import RankingSettings

if __name__ == "__main__":
    settings = RankingSettings()
    try:
        app, _ = build(settings)
    except InvalidRules as exc:
        # An invalid rules file stops the service at start, naming the bad field.
        sys.exit(f"ranking: invalid rules: {exc}")
    serve(app, settings, "ranking")
