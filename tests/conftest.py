"""Every test process, and the servers and CLIs they start, keep memlens' cache of compiled
rules (`engine/rulecache.py`) in a folder of this session, not the user's."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("MEMLENS_CACHE_DIR", tempfile.mkdtemp(prefix="memlens-test-cache-"))
