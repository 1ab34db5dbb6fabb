"""Text rendering of a profile result: memory_profiler's table plus a summary."""

from __future__ import annotations

TEMPLATE = "{0:>6} {1:>12} {2:>12}  {3:>11}   {4}"


def _mib(value) -> str:
    return "" if value is None else f"{value:.1f} MiB"


def format_table(result: dict) -> str:
    """The memory_profiler-style table (Line #, Mem usage, Increment, Occurrences, Line
    Contents) followed by a summary: status, peak, duration, GC activity, children."""
    out = [f"Filename: {result.get('file')}", ""]
    lines = result.get("lines") or []
    if lines:
        header = TEMPLATE.format("Line #", "Mem usage", "Increment", "Occurrences",
                                 "Line Contents")
        out += [header, "=" * len(header)]
        running = result.get("running_line")
        for row in lines:
            ran = row.get("occurrences")
            text = TEMPLATE.format(
                row["line"], _mib(row.get("mem_usage_mib")), _mib(row.get("increment_mib")),
                ran if ran else "", row.get("source", ""),
            ).rstrip()
            if running is not None and row["line"] == running:
                text += "    <-- running when stopped"
            out.append(text)
        out.append("")
    out += summary(result)
    return "\n".join(out) + "\n"


def summary(result: dict) -> list[str]:
    status = result.get("status")
    where = ""
    if result.get("first_line"):
        where = f" (lines {result['first_line']}-{result['last_line']})"
    entry = result.get("entry") or "?"
    if entry == "call" and result.get("call"):
        entry += f" `{result['call']}`"
    elif entry == "pytest":
        entry += f" {result.get('pytest_node')}"
    out = [
        f"Function:  {result.get('qualname')}{where}, entry: {entry}, python: "
        f"{result.get('python')}",
        f"Status:    {status}",
    ]
    if result.get("peak_mib") is not None:
        base = result.get("baseline_mib") or 0.0
        out.append(f"Peak:      {result['peak_mib']:.1f} MiB (baseline {base:.1f} MiB, "
                   f"+{result['peak_mib'] - base:.1f} MiB)")
    if result.get("duration_s") is not None:
        calls = result.get("calls") or 0
        out.append(f"Duration:  {result['duration_s']:.3f} s in the function over {calls} "
                   f"call{'s' if calls != 1 else ''}")
    gc = result.get("gc") or {}
    if result.get("calls"):
        g0, g1, g2 = (gc.get("collections") or [0, 0, 0])[:3]
        freed = gc.get("freed_by_final_collect_mib")
        returned = result.get("running_line") is None
        freed_text = ("" if freed is None or not returned
                      else f"; gc.collect() after return freed {freed:.1f} MiB")
        out.append(f"GC:        {g0 + g1 + g2} collections (gen0 {g0}, gen1 {g1}, gen2 {g2}), "
                   f"{gc.get('collected', 0)} objects collected, "
                   f"{gc.get('uncollectable', 0)} uncollectable{freed_text}")
    out.append("Children:  " + ("included (memory of child processes is summed)"
                                if result.get("include_children")
                                else "not included (use --include-children)"))
    handled = result.get("handled_exception")
    if handled:
        out.append(f"Note:      the function raised {handled.get('type')}: "
                   f"{handled.get('message')} (its caller handled it)")
    error = result.get("error")
    if error:
        out.append(f"Error:     {error.get('type')}: {error.get('message')}")
        if error.get("traceback"):
            out += ["", error["traceback"].rstrip()]
    return out
