"""Static findings plus measured memory: hot-line diagnostics after a profile run, and the
measured figure appended to a static finding on a line that ran."""

from __future__ import annotations

from memlens.lsp import present
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


def overlay(server, result) -> list[dict]:
    placed = placements(server, result.uri)
    if not placed:
        return result.diagnostics
    threshold = server.editor_settings.hot_line_mib
    measured: dict[int, tuple[LineRow, ProfileResult]] = {}  # current 0-based line -> row
    for p in placed:
        for row in p.result.measured_rows:
            measured[p.current(row.line)] = (row, p.result)
    out = []
    for d in result.diagnostics:
        hit = measured.get(d["range"]["start"]["line"])
        if hit is not None:
            d = dict(d, message=d["message"] +
                     f" (measured {present.mib(hit[0].increment_mib, signed=True)} here)")
        out.append(d)
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
