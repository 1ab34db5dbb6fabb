"""The static engine behind `memlens check`. It knows nothing of LSP."""

from memlens.engine.config import ConfigError, Settings
from memlens.engine.core import Engine
from memlens.engine.model import SYNTAX_ERROR, Edit, Finding, Fix, Position
from memlens.engine.rulebook import Rule, RuleError

__all__ = ["ConfigError", "Edit", "Engine", "Finding", "Fix", "Position", "Rule", "RuleError",
           "SYNTAX_ERROR", "Settings"]
