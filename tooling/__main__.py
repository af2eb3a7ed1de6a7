"""``python -m tooling`` is the ``scada`` command."""

from tooling.cli import main

main()
