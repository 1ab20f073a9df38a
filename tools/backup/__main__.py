"""``python -m tools.backup``: see tools/backup/cli.py."""

from tools.backup.cli import main

raise SystemExit(main())
