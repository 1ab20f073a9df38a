"""``python -m services.issues``: run the issues service."""

from services.runtime.service import serve

from .app import build
from .settings import IssuesSettings

if __name__ == "__main__":
    settings = IssuesSettings()
    app, _ = build(settings)
    serve(app, settings, "issues")
