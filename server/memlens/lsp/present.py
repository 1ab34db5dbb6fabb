"""How profile results read in the editor: sizes, the lens title, the hover table."""

from __future__ import annotations

from memlens.profiler.report import HEADER, TEMPLATE, summary
from memlens.profiler.result import LineRow, ProfileResult, Status

EXPLAIN = (
    "*Mem usage* is the process's resident memory (RSS) after the line ran; *Increment* is how "
    "much that line added to it (summed over its occurrences). Memory freed back to the allocator "
    "but kept by the process still counts in Mem usage."
)


def mib(value: float | None, signed: bool = False) -> str:
    """`1.2 GiB`, `763.0 MiB`; with `signed`, `+763.0 MiB` / `-12.0 MiB`."""
    return _size(value, signed, compact=False)


def short_mib(value: float | None, signed: bool = False) -> str:
    """The lens's compact form: `1.2 GiB`, `+763 MiB`, `+4.5 MiB`."""
    return _size(value, signed, compact=True)


def _size(value: float | None, signed: bool, compact: bool) -> str:
    if value is None:
        return "?"
    sign = ("+" if value >= 0 else "-") if signed else ("-" if value < 0 else "")
    size = abs(value)
    if size >= 1024:
        return f"{sign}{size / 1024:.1f} GiB"
    digits = 0 if compact and size >= 10 else 1  # whole MiB read better once they are large
    return f"{sign}{size:.{digits}f} MiB"


def top_row(result: ProfileResult) -> LineRow | None:
    rows = result.measured_rows
    return max(rows, key=lambda r: r.increment_mib or 0.0) if rows else None  # (measured)


def inlay_label(row: LineRow) -> str:
    label = mib(row.increment_mib, signed=True)
    if row.occurrences > 1:
        label += f" ×{row.occurrences}"
    return label


def lens_title(result: ProfileResult, current_line_of) -> str:
    """`peak 1.2 GiB · +763 MiB at line 42 · 3.1 s` (the line in the current document)."""
    parts = []
    if result.peak_mib is not None:
        parts.append(f"peak {short_mib(result.peak_mib)}")
    top = top_row(result)
    if top is not None:
        parts.append(f"{short_mib(top.increment_mib, signed=True)} at line "
                     f"{current_line_of(top.line) + 1}")
    if result.duration_s is not None:
        parts.append(f"{result.duration_s:.1f} s")
    title = " · ".join(parts) or "profiled"
    if result.status is not Status.OK:
        title = f"{result.status.value}: {title}"
    return title


def hover_row(result: ProfileResult, row: LineRow) -> str:
    text = TEMPLATE.format(row.line, mib(row.mem_usage_mib), mib(row.increment_mib),
                           row.occurrences or "", row.source.strip()).rstrip()
    lines = [f"**memlens profile** of `{result.qualname}`", "", "```text", HEADER,
             "=" * len(HEADER), text, "```", "", "```text",
             *summary(result), "```", "", EXPLAIN]
    return "\n".join(lines)


def line_hints(placed, lines: list[str], first: int, last: int, encoder) -> list[dict]:
    """Inlay hints (as LSP dicts) at the end of each measured line in `first`..`last` of
    `lines`, for the placed profile results (`hotlines.Placed`: a .py file's or a cell's)."""
    hints = []
    for p in placed:
        for row in p.result.measured_rows:
            line = p.current(row.line)
            if not (first <= line <= last) or line >= len(lines):
                continue
            hints.append({
                "position": encoder.to_client(lines, line, len(lines[line])),
                "label": inlay_label(row),
                "paddingLeft": True,
                "tooltip": {"kind": "markdown", "value": hover_row(p.result, row)},
            })
    return hints
