"""Editor settings: `initializationOptions`, `workspace/configuration` (section `memlens`) and
`[tool.memlens]` of the workspace's pyproject.toml, merged into one `EditorSettings`.

Pure Python: no pygls, no engine import at module level (the server imports this before the
`initialize` answer, so it must stay cheap).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_MS = 150
DEFAULT_HOT_LINE_MIB = 50.0
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MAX_FILE_KB = 1024
DEFAULT_CHECK_TIMEOUT_S = 20.0
DEFAULT_SETTLE_MS = 1000
DIAGNOSTIC_MODES = ("auto", "push", "pull")


@dataclass(frozen=True)
class EditorSettings:
    """What the editor may set. `None` means "not given": pyproject or the default applies."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] | None = None
    severity: dict[str, str] = field(default_factory=dict)
    debounce_ms: int = DEFAULT_DEBOUNCE_MS
    diagnostic_mode: str = "auto"
    interpreter: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_limit_mib: float | None = None
    hot_line_mib: float = DEFAULT_HOT_LINE_MIB
    include_children: bool = False
    max_file_kb: int = DEFAULT_MAX_FILE_KB  # 0: no limit
    check_timeout_s: float = DEFAULT_CHECK_TIMEOUT_S  # one file's check is stopped after; 0: never
    profile_cwd: str = "workspace"  # where the profiled code runs: "workspace" or "file" folder
    # after a partial check of module-level code, re-check the whole file once typing pauses
    # this long (0: never; the quick view then stays until the next full check)
    settle_ms: int = DEFAULT_SETTLE_MS

    def engine_overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {"select": self.select, "ignore": self.ignore,
                               "extend_select": self.extend_select}
        if self.severity:
            out["severity"] = dict(self.severity)
        return out


def unwrap(options: Any) -> dict:
    """The memlens settings object inside `initializationOptions` or a configuration answer.

    Accepts `{...}`, `{"settings": {...}}` (the VS Code client) and `{"memlens": {...}}`.
    """
    if not isinstance(options, dict):
        return {}
    for key in ("settings", "memlens"):
        inner = options.get(key)
        if isinstance(inner, dict):
            merged = {k: v for k, v in options.items() if k not in ("settings", "memlens")}
            merged.update(unwrap(inner) if ("settings" in inner or "memlens" in inner) else inner)
            return merged
    return dict(options)


def _get(raw: dict, *keys: str) -> Any:
    """`raw["profile"]["timeoutSeconds"]`, `raw["profile.timeoutSeconds"]` or a flat alias."""
    for key in keys:
        if key in raw:
            return raw[key]
        node: Any = raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                node = None
                break
            node = node[part]
        if node is not None:
            return node
    return None


def _codes(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, (list, tuple)):
        return None
    out = [str(v).strip().upper() for v in value if isinstance(v, str) and v.strip()]
    return tuple(out)


# Every setting read from the editor: EditorSettings' field -> the keys it is read from, the
# first as the VS Code client sends it (`memlens.<key>` in package.json, client/src/settings.ts:
# tests/lsp/test_settings.py holds the three in step), then other spellings (other editors).
KEYS: dict[str, tuple[str, ...]] = {
    "select": ("select",),
    "ignore": ("ignore",),
    "extend_select": ("extendSelect", "extend_select", "extend-select"),
    "severity": ("severity",),
    "debounce_ms": ("debounceMs", "debounce_ms", "debounce"),
    "diagnostic_mode": ("diagnosticMode", "diagnostic_mode"),
    "interpreter": ("interpreter", "profile.interpreter", "python"),
    "timeout_s": ("profile.timeoutSeconds", "timeoutSeconds", "profile.timeout_seconds"),
    "memory_limit_mib": ("profile.memoryLimitMb", "memoryLimitMb", "profile.memory_limit_mb"),
    "hot_line_mib": ("profile.hotLineThresholdMb", "hotLineThresholdMb",
                     "profile.hot_line_threshold_mb"),
    "include_children": ("profile.includeChildren", "includeChildren"),
    "max_file_kb": ("maxFileSizeKb", "max_file_kb"),
    "check_timeout_s": ("checkTimeoutSeconds", "check_timeout_s"),
    "profile_cwd": ("profile.cwd", "profileCwd"),
    "settle_ms": ("settleMs", "settle_ms"),
}

DAY_S = 86_400.0
# The numbers: (default, least, greatest). A value that is not a finite number in that range
# (a string that is not one, NaN, infinity, a negative or a huge one) is the default.
NUMBERS: dict[str, tuple[float, float, float]] = {
    "debounce_ms": (DEFAULT_DEBOUNCE_MS, 0, 60_000),
    "timeout_s": (DEFAULT_TIMEOUT_S, 0.1, 7 * DAY_S),
    "memory_limit_mib": (0, 0, 2.0 ** 30),  # 0: no limit
    "hot_line_mib": (DEFAULT_HOT_LINE_MIB, 0, 2.0 ** 30),
    "max_file_kb": (DEFAULT_MAX_FILE_KB, 0, 2.0 ** 30),  # 0: no limit
    "check_timeout_s": (DEFAULT_CHECK_TIMEOUT_S, 0, DAY_S),  # 0: never stopped
    "settle_ms": (DEFAULT_SETTLE_MS, 0, 3_600_000),  # 0: never settled
}


def _number(raw: dict, name: str) -> float:
    default, least, greatest = NUMBERS[name]
    value = _get(raw, *KEYS[name])
    if value is None or isinstance(value, bool):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if not math.isfinite(number) or not least <= number <= greatest:
        return default
    return number


def parse(raw: Any) -> EditorSettings:
    """Editor settings from a (possibly wrapped, possibly partial or wrong) settings object.

    Bad values fall back to the defaults: a typo in settings.json must not stop the server.
    """
    raw = unwrap(raw)

    def get(name: str) -> Any:
        return _get(raw, *KEYS[name])

    severity = get("severity")
    mode = get("diagnostic_mode")
    memory = _number(raw, "memory_limit_mib")
    interpreter = get("interpreter")
    return EditorSettings(
        select=_codes(get("select")) or None,  # empty: the project's selection
        ignore=_codes(get("ignore")) or None,
        extend_select=_codes(get("extend_select")) or None,
        severity={str(k).upper(): str(v) for k, v in severity.items()}
        if isinstance(severity, dict) else {},
        debounce_ms=int(_number(raw, "debounce_ms")),
        diagnostic_mode=mode if mode in DIAGNOSTIC_MODES else "auto",
        interpreter=interpreter if isinstance(interpreter, str) and interpreter.strip() else None,
        timeout_s=_number(raw, "timeout_s"),
        memory_limit_mib=memory if memory else None,
        hot_line_mib=_number(raw, "hot_line_mib"),
        include_children=bool(get("include_children")),
        max_file_kb=int(_number(raw, "max_file_kb")),
        check_timeout_s=_number(raw, "check_timeout_s"),
        profile_cwd="file" if get("profile_cwd") == "file" else "workspace",
        settle_ms=int(_number(raw, "settle_ms")),
    )


def merge(base: dict, update: Any) -> dict:
    """`update` (a configuration answer) over `base` (the initializationOptions), deeply."""
    out = dict(base)
    for key, value in unwrap(update).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif value is not None:
            out[key] = value
    return out


def overrides(editor: EditorSettings):
    """The editor's settings over every project's [tool.memlens]: its select replaces the
    project's, its ignore and extend-select add to them."""
    from memlens.engine.resolver import Overrides

    return Overrides(select=editor.select, ignore=editor.ignore or (),
                     extend_select=editor.extend_select or (), severity=dict(editor.severity))


def resolver(root: str | None, editor: EditorSettings, trusted: bool = True):
    """Each file's settings, as `memlens check` resolves them, with the editor's on top."""
    from memlens.engine.resolver import Resolver

    return Resolver(overrides(editor), trusted=trusted, default_root=root)


def engine_settings(root: str | None, editor: EditorSettings, trusted: bool = True,
                    using=None):
    """The workspace's engine Settings: `[tool.memlens]` found from `root`, then the editor's
    overrides. An untrusted workspace's own rule folders (`rule-dirs`) are left out: their rules
    would run (their regexes, their patterns) on the word of whoever wrote the workspace.

    Returns (settings, problems): a broken pyproject or a bad override is reported, not raised;
    then the defaults, or the project's settings without the editor's, are used. `using`: the
    workspace's `resolver(...)`, when the caller keeps one for the nested projects.
    """
    from memlens.engine import ConfigError, Settings
    from memlens.engine.resolver import Overrides, Resolver

    def resolved(chosen: Resolver):
        folder = str(Path(root).resolve()) if root else None
        settings = chosen.for_folder(folder) if folder else chosen.overrides.apply(Settings())
        return settings, list(chosen.problems)

    try:
        return resolved(using or resolver(root, editor, trusted))
    except ConfigError as exc:
        problem = str(exc)
    try:  # the project's own settings read: the editor's were wrong
        settings, problems = resolved(Resolver(Overrides(), trusted=trusted, default_root=root))
        return settings, [*problems, f"memlens settings: {problem}"]
    except ConfigError:  # the project's configuration is broken: the defaults, the editor's on top
        try:
            return overrides(editor).apply(Settings()), [problem]
        except ConfigError as exc:
            return Settings(), [problem, f"memlens settings: {exc}"]
