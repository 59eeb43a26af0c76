"""``python -m sleuth.cli``: the same as the ``sleuth`` command."""

from sleuth.cli.entry import main

main()
