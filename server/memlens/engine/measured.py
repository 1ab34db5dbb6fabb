"""Findings confirmed or dismissed by a profile run.

A profile run (`profiler/result.py`) measured what each line of one function added to the
process's memory. A finding on a line the run measured at or over the hot-line threshold becomes
a warning ("measured +812.0 MiB here"); one on a line measured small says so and drops to a
hint; either way its evidence is "measured". A line the run never executed changes nothing.

A measurement holds only while the function's text is the text that was measured: it is keyed by
`function_hash` of the profiled lines. Where those lines still stand (or where the function of
the same qualname now starts, lines above it inserted or deleted) and hash the same, it applies
there; otherwise it is stale and changes nothing.

`memlens check --measurements` and the language server both adjust findings here.
"""

from __future__ import annotations

import ast
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from memlens.engine.model import IO_ERROR, SYNTAX_ERROR, Finding, Severity
from memlens.lines import split_lines
from memlens.profiler.result import HOT_LINE_MIB, ProfileResult, function_hash

__all__ = ["HOT_LINE_MIB", "Applied", "LineMeasure", "MeasurementError", "adjust", "apply",
           "evidence_line", "format_mib", "load", "measured_lines", "offset_in"]

MAX_MEASUREMENT_FILE = 64 << 20  # a profile's JSON is a few KB; a list of them, a few MB
_NOT_RULES = frozenset({SYNTAX_ERROR, IO_ERROR})


class MeasurementError(ValueError):
    """A measurements file that cannot be read as profile results (one line)."""


@dataclass(frozen=True)
class LineMeasure:
    """What a profile run measured on one line."""

    increment_mib: float
    occurrences: int
    qualname: str | None = None
    started_at: float | None = None  # seconds since the epoch

    def to_data(self) -> dict:
        return {"increment_mib": self.increment_mib, "occurrences": self.occurrences,
                "qualname": self.qualname, "started_at": self.started_at}


def format_mib(value: float) -> str:
    """`+812.0 MiB`, `-3.5 MiB`, `+1.2 GiB` (as the editor's inlay hints write them)."""
    sign = "+" if value >= 0 else "-"
    size = abs(value)
    return f"{sign}{size / 1024:.1f} GiB" if size >= 1024 else f"{sign}{size:.1f} MiB"


def offset_in(result: ProfileResult, lines: list[str]) -> int | None:
    """How far the profiled function has moved in `lines` (the current text's lines; in a
    notebook, its cell's): 0 where it was measured, +2 after two lines inserted above it; None
    when its text is no longer the text measured (the measurement is stale)."""
    wanted = result.function_hash
    if not wanted or not result.lines:
        return None
    first, count = result.lines[0].line, len(result.lines)
    if _hash_at(lines, first, count) == wanted:
        return 0
    start = _function_start(lines, result.qualname)
    if start is not None and start != first and _hash_at(lines, start, count) == wanted:
        return start - first
    return None


def _hash_at(lines: list[str], first: int, count: int) -> str | None:
    if first < 1 or first - 1 + count > len(lines):
        return None
    return function_hash(lines[first - 1:first - 1 + count])


def _function_start(lines: list[str], qualname: str | None) -> int | None:
    """The first line (1-based, decorators included) of the function `qualname` now."""
    if not qualname:
        return None
    from memlens.profiler.source import find

    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    info = find(tree, qualname)
    return info.first_line if info is not None else None


def measured_lines(result: ProfileResult, offset: int = 0) -> dict[int, LineMeasure]:
    """The lines the run executed, by their current 0-based line (`offset` from `offset_in`)."""
    out = {}
    for row in result.measured_rows:
        out[row.line - 1 + offset] = LineMeasure(float(row.increment_mib or 0.0),
                                                 row.occurrences, result.qualname,
                                                 result.started_at)
    return out


def adjust(findings: Iterable[Finding], lines: Mapping[int, LineMeasure],
           threshold_mib: float = HOT_LINE_MIB) -> list[Finding]:
    """The findings with those on measured lines (0-based, as `measured_lines` gives them)
    confirmed (at or over `threshold_mib`: a warning) or dismissed (under it: a hint)."""
    out = []
    for f in findings:
        measure = lines.get(f.start.line) if f.code not in _NOT_RULES else None
        out.append(f if measure is None else _adjusted(f, measure, threshold_mib))
    return out


def _adjusted(f: Finding, measure: LineMeasure, threshold_mib: float) -> Finding:
    severity: Severity
    if measure.increment_mib >= threshold_mib:
        severity = "error" if f.severity == "error" else "warning"  # (an error stays one)
    else:
        severity = "hint"
    return replace(f, severity=severity, evidence="measured",
                   message=f"{f.message} (measured {format_mib(measure.increment_mib)} here)",
                   data={**f.data, "measured": measure.to_data()})


@dataclass
class Applied:
    findings: list[Finding]
    applied: list[ProfileResult] = field(default_factory=list)
    stale: list[ProfileResult] = field(default_factory=list)  # the function's text changed


def apply(findings: list[Finding], results: Iterable[ProfileResult],
          text_of: Callable[[int | None], str | None],
          threshold_mib: float = HOT_LINE_MIB) -> Applied:
    """`findings` of one file adjusted by the profile `results` of that file. `text_of(cell)`
    gives the file's current text (a notebook's: that cell's; None when it has none)."""
    done = Applied(list(findings))
    for result in results:
        text = text_of(result.cell)
        offset = None if text is None else offset_in(result, split_lines(text))
        if offset is None:
            done.stale.append(result)
            continue
        measured = measured_lines(result, offset)
        done.findings = [adjust([f], measured, threshold_mib)[0] if f.cell == result.cell
                         else f for f in done.findings]
        done.applied.append(result)
    return done


def load(path: str) -> list[ProfileResult]:
    """The profile results a `memlens profile --output-format json` file holds: one result or
    a list of them. A file that is no such thing raises `MeasurementError` (one line)."""
    from memlens.engine.safe_read import read_bytes

    try:
        data = json.loads(read_bytes(path, MAX_MEASUREMENT_FILE))
    except FileNotFoundError:
        raise MeasurementError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:  # (a JSON error is a ValueError)
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MeasurementError(f"{path}: not a profile result: {why}") from None
    items = data if isinstance(data, list) else [data]
    results = []
    for index, item in enumerate(items):
        where = f"{path}" if not isinstance(data, list) else f"{path}[{index}]"
        if not isinstance(item, dict) or "lines" not in item or "qualname" not in item:
            raise MeasurementError(f"{where}: not a profile result of `memlens profile "
                                   "--output-format json`")
        try:
            result = ProfileResult.from_json(item)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise MeasurementError(f"{where}: a malformed profile result: {exc}") from None
        if not isinstance(result.file, str) or not result.file:
            raise MeasurementError(f"{where}: the profile result names no file")
        results.append(result)
    return results


def same_file(result: ProfileResult, path: str) -> bool:
    """Whether `result` was profiled in the file at `path`."""
    try:
        return os.path.samefile(result.file or "", path)
    except OSError:
        return os.path.realpath(result.file or "") == os.path.realpath(path)


def evidence_line(finding: Finding, stale: ProfileResult | None = None) -> str:
    """What the finding rests on, in one line (the editor's hover)."""
    measure = finding.data.get("measured") if finding.evidence == "measured" else None
    if isinstance(measure, dict):
        said = f"evidence: measured {format_mib(float(measure['increment_mib']))} on this line"
        if measure.get("occurrences", 1) > 1:
            said += f" over {measure['occurrences']} runs of it"
        said += " by a profile run"
        if measure.get("qualname"):
            said += f" of `{measure['qualname']}`"
        if measure.get("started_at") is not None:
            said += f" at {clock(measure['started_at'])}"
        return said
    said = {"pattern": "evidence: pattern (size unknown)",
            "code": "evidence: code (the code shows the size)",
            "file size": "evidence: file size",
            "notebook output": "evidence: notebook output"}.get(finding.evidence,
                                                                f"evidence: {finding.evidence}")
    if stale is not None:
        when = f" at {clock(stale.started_at)}" if stale.started_at is not None else ""
        said += (f"; the profile run of `{stale.qualname}`{when} is stale: the function "
                 "changed since")
    return said


def clock(epoch: float) -> str:
    """`14:02` today, `2024-05-01 14:02` another day (local time)."""
    then, now = time.localtime(epoch), time.localtime()
    same_day = then[:3] == now[:3]
    return time.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M", then)
