"""Text rendering of a profile result: memory_profiler's table plus a summary."""

from __future__ import annotations

from .result import LineRow, ProfileResult

TEMPLATE = "{0:>6} {1:>12} {2:>12}  {3:>11}   {4}"


def _mib(value) -> str:
    return "" if value is None else f"{value:.1f} MiB"


def format_table(result: ProfileResult | dict) -> str:
    """The memory_profiler-style table (Line #, Mem usage, Increment, Occurrences, Line
    Contents) followed by a summary: status, peak, duration, GC activity, children. A dict is
    read as the JSON shape (`ProfileResult.from_json`)."""
    if isinstance(result, dict):
        result = ProfileResult.from_json(result)
    out = [f"Filename: {result.file}", ""]
    if result.lines:
        cells = any(row.cell is not None for row in result.lines)  # a notebook's rows
        header = CELL_HEADER if cells else HEADER
        out += [header, "=" * len(header)]
        for row in result.lines:
            text = table_row(row, cells)
            if result.running_line is not None and row.line == result.running_line:
                text += "    <-- running when stopped"
            out.append(text)
        out.append("")
    out += summary(result)
    return "\n".join(out) + "\n"


HEADER = TEMPLATE.format("Line #", "Mem usage", "Increment", "Occurrences", "Line Contents")
# a notebook's rows: the cell, then the line within it
CELL_TEMPLATE = "{5:>4}  " + TEMPLATE
CELL_HEADER = CELL_TEMPLATE.format("Line #", "Mem usage", "Increment", "Occurrences",
                                   "Line Contents", "Cell")


def table_row(row: LineRow, cells: bool = False) -> str:
    template = CELL_TEMPLATE if cells else TEMPLATE
    return template.format(row.line, _mib(row.mem_usage_mib), _mib(row.increment_mib),
                           row.occurrences or "", row.source,
                           "" if row.cell is None else row.cell).rstrip()


def summary(result: ProfileResult) -> list[str]:
    where = ""
    if result.first_line:
        where = f"lines {result.first_line}-{result.last_line}"
        where = f" (cell {result.cell}, {where})" if result.cell is not None else f" ({where})"
    entry = result.entry or "?"
    if entry == "call" and result.call:
        entry += f" `{result.call}`"
    elif entry == "pytest":
        entry += f" {result.pytest_node}"
    if result.qualname is None and result.cell is not None:  # a notebook's cell
        ran = ", ".join(map(str, result.cells_run or ())) or "none"
        what = (f"Cell:      {result.cell}, after the code cells above it ({ran}) in a fresh "
                f"process, python: {result.python}")
    else:
        what = f"Function:  {result.qualname}{where}, entry: {entry}, python: {result.python}"
        if result.cells_run is not None:
            ran = ", ".join(map(str, result.cells_run)) or "none"
            what += f"; cells run first: {ran}, then cell {result.cell}"
    out = [what, f"Status:    {result.status.value}"]
    if result.peak_mib is not None:
        base = result.baseline_mib or 0.0
        out.append(f"Peak:      {result.peak_mib:.1f} MiB (baseline {base:.1f} MiB, "
                   f"+{result.peak_mib - base:.1f} MiB)")
    if result.duration_s is not None:
        calls = result.calls or 0
        what = "the cell" if result.qualname is None and result.cell is not None \
            else "the function"
        out.append(f"Duration:  {result.duration_s:.3f} s in {what} over {calls} "
                   f"call{'s' if calls != 1 else ''}")
    gc = result.gc
    if result.calls:
        g0, g1, g2 = (list(gc.collections) + [0, 0, 0])[:3]
        freed = gc.freed_by_final_collect_mib
        returned = result.running_line is None
        freed_text = ("" if freed is None or not returned
                      else f"; gc.collect() after return freed {freed:.1f} MiB")
        out.append(f"GC:        {g0 + g1 + g2} collections (gen0 {g0}, gen1 {g1}, gen2 {g2}), "
                   f"{gc.collected} objects collected, "
                   f"{gc.uncollectable} uncollectable{freed_text}")
    out.append("Children:  " + ("included (memory of child processes is summed)"
                                if result.include_children
                                else "not included (use --include-children)"))
    handled = result.handled_exception
    if handled:
        out.append(f"Note:      the function raised {handled.type}: "
                   f"{handled.message} (its caller handled it)")
    error = result.error
    if error:
        out.append(f"Error:     {error.type}: {error.message}")
        if error.traceback:
            out += ["", error.traceback.rstrip()]
    return out
