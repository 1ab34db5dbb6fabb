"""What the editor should show for one file, computed with the memlens engine (not the editor).

Prints JSON: the findings, and for the first finding that has a fix, the text after applying
only that fix's edits and a phrase from its rule's documentation (for the hover check).
"""

import json
import os
import re
import sys

from memlens.engine import Engine, Settings
from memlens.flow.project import FileRole


def apply_edits(text: str, edits) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(pos):
        return starts[pos.line] + pos.column

    for edit in sorted(edits, key=lambda e: offset(e.start), reverse=True):
        text = text[: offset(edit.start)] + edit.content + text[offset(edit.end) :]
    return text


def doc_phrase(markdown: str) -> str:
    for line in markdown.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "```", "|", "-", ">")):
            continue
        plain = re.sub(r"[`*_]", "", line)
        words = plain.split()
        if len(words) >= 4:
            return " ".join(words[:6])
    return ""


def main() -> None:
    path = sys.argv[1]
    text = open(path, encoding="utf-8").read()
    engine = Engine(Settings.discover(path))
    # the data files it names are read in its folder (the workspace), as the editor does; hints
    # (size unknown) are not in the Problems view
    role = FileRole(root=os.path.dirname(os.path.abspath(path)))
    findings = [f for f in engine.check_source(text, path=path, role=role) if f.severity != "hint"]
    out = {
        "findings": [
            {"code": f.code, "message": f.message, "line": f.start.line, "column": f.start.column}
            for f in findings
        ]
    }
    for f in findings:
        if f.fix is not None:
            out["fix"] = {
                "code": f.code,
                "line": f.start.line,
                "column": f.start.column,
                "end_column": f.end.column if f.end.line == f.start.line else None,
                "title": f.fix.message,
                "fixed_text": apply_edits(text, f.fix.edits),
                "doc_phrase": doc_phrase(engine.rule(f.code).docs_markdown()),
            }
            break
    print(json.dumps(out))


main()
