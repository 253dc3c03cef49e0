"""``python -m famcal`` is the ``famcal`` command."""

from famcal.cli import main

main()
