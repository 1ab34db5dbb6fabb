"""The rich output of the magics: one object, three forms.

- `text/html`: the per-line table with a bar for each line's increment;
- `application/vnd.memlens.profile+json`: the result's JSON, the schema of
  `memlens profile --output-format json` (`profiler/result.py`);
- `text/plain`: memory_profiler's table, for terminals (`profiler/report.py`).
"""

from __future__ import annotations

import html

from memlens.profiler.report import format_table, summary
from memlens.profiler.result import LineRow, ProfileResult, Status

MIME = "application/vnd.memlens.profile+json"
BAR_PX = 120
_GROW, _FREE = "#d9534f", "#5cb85c"


def _mib(value: float | None, signed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:+.1f} MiB" if signed else f"{value:.1f} MiB"


def _bar(row: LineRow, scale: float) -> str:
    increment = row.increment_mib
    if not row.measured or not scale or not increment:
        return ""
    width = max(1, round(BAR_PX * min(abs(increment) / scale, 1.0)))
    color = _GROW if increment > 0 else _FREE
    return (f'<div style="width:{width}px;height:0.8em;background:{color}" '
            f'title="{_mib(row.increment_mib, signed=True)}"></div>')


def to_html(result: ProfileResult, label: str | None = None) -> str:
    rows = result.lines
    scale = max((abs(r.increment_mib) for r in rows
                 if r.measured and r.increment_mib is not None), default=0.0)
    cells = any(r.cell is not None for r in rows)
    head = ["Cell"] if cells else []
    head += ["Line #", "Mem usage", "Increment", "Occurrences", "", "Line Contents"]
    out = ['<div class="memlens-profile">']
    title = html.escape(label or result.qualname or result.file or "")
    status = result.status.value
    if result.status is not Status.OK:
        status = f'<b style="color:{_GROW}">{html.escape(status)}</b>'
    out.append(f"<p><b>memlens</b> · {title} · {status}</p>")
    out.append('<table style="border-collapse:collapse"><thead><tr>')
    out += [f'<th style="text-align:{"left" if h == "Line Contents" else "right"}">{h}</th>'
            for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cols = [str(row.cell)] if cells else []
        cols += [str(row.line), _mib(row.mem_usage_mib), _mib(row.increment_mib, signed=True),
                 str(row.occurrences or "")]
        tds = "".join(f'<td style="text-align:right">{html.escape(c)}</td>' for c in cols)
        running = ' style="background:#fff3cd"' if row.line == result.running_line else ""
        out.append(f"<tr{running}>{tds}<td>{_bar(row, scale)}</td>"
                   f'<td style="text-align:left"><code style="white-space:pre">'
                   f"{html.escape(row.source)}</code></td></tr>")
    out.append("</tbody></table>")
    out.append(f"<pre>{html.escape(chr(10).join(summary(result)))}</pre></div>")
    return "".join(out)


class ProfileDisplay:
    """What `%memlens` and `%%memlens` display; `result` is the ProfileResult."""

    def __init__(self, result: ProfileResult, label: str | None = None):
        self.result, self.label = result, label

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/plain": repr(self), "text/html": to_html(self.result, self.label),
                MIME: self.result.to_json()}

    def __repr__(self) -> str:
        head = f"memlens: {self.label}\n" if self.label else ""
        return head + format_table(self.result).rstrip("\n")
