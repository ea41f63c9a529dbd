"""The security suite reuses the API, web UI and webhook harnesses of the suites it maps (see SECURITY.md)."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
for harness_dir in ("api", "web", "webhooks"):
    if str(TESTS / harness_dir) not in sys.path:
        sys.path.insert(0, str(TESTS / harness_dir))
