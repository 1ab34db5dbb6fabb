"""The static engine behind `memlens check`. It knows nothing of LSP."""

from memlens.engine.config import ConfigError, Settings
from memlens.engine.model import SYNTAX_ERROR, Edit, Finding, Fix, Position
from memlens.engine.rulebook import Rule, RuleError

__all__ = ["ConfigError", "Edit", "Engine", "Finding", "Fix", "Position", "Rule", "RuleError",
           "SYNTAX_ERROR", "Settings"]


def __getattr__(name: str):
    # The engine (ast-grep, the rule compiler) loads on first use: a warm `memlens check`, whose
    # files are all cached, never needs it.
    if name == "Engine":
        from memlens.engine.core import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
