"""``python -m cli``: the ``chuangwen`` command."""

from cli.app import main

main()
