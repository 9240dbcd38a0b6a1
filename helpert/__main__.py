"""``python -m helpert`` is the ``helpert`` command."""

from helpert.cli.main import main

main()
