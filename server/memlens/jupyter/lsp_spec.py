"""The `jupyter_lsp_spec_v1` entry point: installing memlens next to JupyterLab makes
`memlens serve` one of jupyter-lsp's language servers, with no configuration.

jupyter-lsp calls `spec(manager)` and validates what it returns against its schema (version 2).
"""

from __future__ import annotations

import sys

HOME = "https://github.com/memlens/memlens"


def spec(manager=None) -> dict:
    return {"memlens": {
        "argv": [sys.executable, "-m", "memlens", "serve"],
        "languages": ["python"],
        "mime_types": ["text/python", "text/x-ipython"],
        "display_name": "memlens",
        "version": 2,
        # the server checks the text the editor sends: no .virtual_documents copies on disk
        "requires_documents_on_disk": False,
        "urls": {"home": HOME, "issues": f"{HOME}/issues"},
        "install": {"pip": "pip install memlens"},
        "env": {"PYTHONUNBUFFERED": "1"},
    }}
