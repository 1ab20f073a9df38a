"""``python -m services.issues``: run the issues service."""

import sys

from services.runtime.service import serve

from .app import build
from .rules import InvalidRules
from .settings import IssuesSettings


def main() -> None:
    """Build and serve; an unusable rules file stops the service with one line naming the
    file and field (no traceback) and exit status 2."""
    settings = IssuesSettings()
    try:
        app, _ = build(settings)
    except InvalidRules as exc:
        message = str(exc).replace("\n", " ")
        print(f"issues: invalid rules file: {message}", file=sys.stderr)
        sys.exit(2)
    serve(app, settings, "issues")


if __name__ == "__main__":
    main()
