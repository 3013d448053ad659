"""How claimtrack calls the replication engine: ``python -m replicate`` as a process (claimtrack
never imports ``replicate``), or ``$CLAIMTRACK_REPLICATE_CMD`` (tests point it at a fake engine).
"""

from __future__ import annotations

import os
import shlex
import sys


def replicate_command() -> list[str]:
    """``python -m replicate``, or ``$CLAIMTRACK_REPLICATE_CMD`` split like a shell would."""
    override = os.environ.get("CLAIMTRACK_REPLICATE_CMD")
    return shlex.split(override) if override else [sys.executable, "-m", "replicate"]
