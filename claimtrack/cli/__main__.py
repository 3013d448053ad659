"""``python -m claimtrack.cli ...`` is ``claimtrack ...``."""

import sys

from claimtrack.cli import main

sys.exit(main())
