"""``python -m scada`` is the ``scada`` command."""

from scada.cli import main

main()
