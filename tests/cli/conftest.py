"""Fixtures of the command-line tests (helpers live in cli_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_helpers import project, rules_project  # noqa: E402, F401
