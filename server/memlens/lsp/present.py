"""How profile results read in the editor: sizes, the lens title, the hover table."""

from __future__ import annotations

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


def measured_rows(result: dict) -> list[dict]:
    return [r for r in result.get("lines") or []
            if r.get("increment_mib") is not None and (r.get("occurrences") or 0) > 0]


def top_row(result: dict) -> dict | None:
    rows = measured_rows(result)
    return max(rows, key=lambda r: r["increment_mib"]) if rows else None


def inlay_label(row: dict) -> str:
    label = mib(row["increment_mib"], signed=True)
    occurrences = row.get("occurrences") or 0
    if occurrences > 1:
        label += f" ×{occurrences}"
    return label


def lens_title(result: dict, current_line_of) -> str:
    """`peak 1.2 GiB · +763 MiB at line 42 · 3.1 s` (the line in the current document)."""
    status = result.get("status")
    parts = []
    if result.get("peak_mib") is not None:
        parts.append(f"peak {short_mib(result['peak_mib'])}")
    top = top_row(result)
    if top is not None:
        parts.append(f"{short_mib(top['increment_mib'], signed=True)} at line "
                     f"{current_line_of(top['line']) + 1}")
    if result.get("duration_s") is not None:
        parts.append(f"{result['duration_s']:.1f} s")
    title = " · ".join(parts) or "profiled"
    if status != "ok":
        title = f"{status}: {title}"
    return title


def hover_row(result: dict, row: dict) -> str:
    try:
        from memlens.profiler.report import TEMPLATE, summary
    except ImportError:  # an older or newer profiler: a plain rendering
        TEMPLATE = "{0:>6} {1:>12} {2:>12}  {3:>11}   {4}"  # noqa: N806

        def summary(result: dict) -> list[str]:
            gc = result.get("gc") or {}
            return [f"Status:    {result.get('status')}",
                    f"Peak:      {mib(result.get('peak_mib'))}",
                    f"GC:        {sum((gc.get('collections') or [0])[:3])} collections, "
                    f"{gc.get('collected', 0)} objects collected"]

    header = TEMPLATE.format("Line #", "Mem usage", "Increment", "Occurrences", "Line Contents")
    text = TEMPLATE.format(row["line"], mib(row.get("mem_usage_mib")),
                           mib(row.get("increment_mib")), row.get("occurrences") or "",
                           row.get("source", "").strip()).rstrip()
    lines = [f"**memlens profile** of `{result.get('qualname')}`", "", "```text", header,
             "=" * len(header), text, "```", "", "```text", *summary(result), "```", "", EXPLAIN]
    return "\n".join(lines)
