"""Static findings plus measured memory: hot-line diagnostics after a profile run, and the
static findings on lines that ran confirmed (a warning) or dismissed (a hint) by the measurement
(`engine/measured.py` decides; this module only maps its answer onto the diagnostics)."""

from __future__ import annotations

from memlens.engine import measured as measurement
from memlens.lsp import present
from memlens.lsp.convert import SEVERITY
from memlens.profiler.result import LineRow, ProfileResult

HOT_CODE = "memory-hotspot"


def placements(server, uri: str):
    """The profile results placed in the open document `uri` (empty if none or not open)."""
    doc = server.open_document(uri)
    if doc is None or not server.profiles.has(uri):
        return []
    text = doc.source
    functions = server.functions.get(uri, doc.version, text)
    return server.profiles.placed(uri, doc.version, text, functions)


def adjusted(server, result, placed=None) -> list:
    """`result.findings`, those on measured lines adjusted by the measurement."""
    placed = placements(server, result.uri) if placed is None else placed
    if not placed:
        return list(result.findings)
    lines: dict = {}
    for p in placed:
        lines.update(measurement.measured_lines(p.result, p.offset))
    return measurement.adjust(result.findings, lines, server.editor_settings.hot_line_mib)


def overlay(server, result) -> list[dict]:
    placed = placements(server, result.uri)
    if not placed:
        return result.diagnostics
    threshold = server.editor_settings.hot_line_mib
    measured: dict[int, tuple[LineRow, ProfileResult]] = {}  # current 0-based line -> row
    for p in placed:
        for row in p.result.measured_rows:
            measured[p.current(row.line)] = (row, p.result)
    out = list(result.diagnostics)
    if len(result.findings) == len(out):  # (a notice stands alone, with no finding)
        for i, (before, after) in enumerate(zip(result.findings, adjusted(server, result, placed),
                                                strict=True)):
            if after is not before:
                d = out[i]
                out[i] = dict(d, severity=SEVERITY.get(after.severity, 2), message=after.message,
                              data=dict(d.get("data") or {}, evidence=after.evidence))
    lines = result.lines
    enc = server.encoder
    for line, (row, res) in sorted(measured.items()):
        if row.increment_mib < threshold or line >= len(lines):
            continue
        text = lines[line]
        indent = len(text) - len(text.lstrip())
        ran = f", over {row.occurrences} runs of the line" if row.occurrences > 1 else ""
        out.append({
            "range": {"start": enc.to_client(lines, line, indent),
                      "end": enc.to_client(lines, line, len(text.rstrip()))},
            "severity": 3,
            "code": HOT_CODE,
            "source": "memlens",
            "message": f"Measured {present.mib(row.increment_mib, signed=True)} on this line"
                       f"{ran} (memory usage {present.mib(row.mem_usage_mib)} after it) in "
                       f"the last profile of {res.qualname}",
            "data": {"code": HOT_CODE, "profile": True},
        })
    return out
