"""``python -m services.notify``: run the notify service."""

from services.runtime.service import serve

from .app import build
from .settings import NotifySettings

if __name__ == "__main__":
    settings = NotifySettings()
    app, _ = build(settings)
    serve(app, settings, "notify")
