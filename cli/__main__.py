"""``python -m sleuth.cli``: the same as the ``sleuth`` command."""

from sleuth.cli.app import main

main()
