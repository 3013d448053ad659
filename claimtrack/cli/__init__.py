"""The ``claimtrack`` command line (room ``cli``, the top of the import order).

    claimtrack --help          # or: python -m claimtrack / python -m claimtrack.cli

``base`` holds the ``main`` group and what every command shares; ``commands`` the core commands,
``inquiry`` the inquiry and export commands, ``living`` watch/review/diff. Importing this package
registers them all on ``main``. May import every other room; nothing imports ``cli``.
"""

from claimtrack.cli.base import main
from claimtrack.cli import commands, inquiry, living  # noqa: F401  (registers their commands on main)

for _cmd in living.COMMANDS:
    main.add_command(_cmd)

__all__ = ["main"]
