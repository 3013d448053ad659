"""``python -m claimtrack ...`` is ``claimtrack ...``."""

import sys

from claimtrack.cli import main

sys.exit(main())
