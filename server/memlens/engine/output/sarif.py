"""`--output-format sarif`: SARIF 2.1.0, with each enabled rule's metadata and docs. A notebook's
finding names the notebook file as its location, its region (and its fix's) within the cell, and
`properties` give the notebook and the cell (`{"notebook": "nb.ipynb", "cell": 3}`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memlens import __version__
from memlens.engine.model import IO_ERROR, SYNTAX_ERROR
from memlens.engine.output import Report, json_text

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note", "hint": "note"}
_PSEUDO = {
    SYNTAX_ERROR: "The file does not parse; memlens checks the rest of it.",
    IO_ERROR: "The file could not be checked (unreadable, not UTF-8, NUL bytes, over 10 MB, or "
              "a notebook memlens cannot read).",
}


def _rule(rule) -> dict:
    docs = rule.docs_markdown()
    return {
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": rule.message},
        "fullDescription": {"text": rule.note.strip(), "markdown": rule.note.strip()},
        "help": {"text": docs, "markdown": docs},
        "helpUri": rule.url,
        "defaultConfiguration": {"level": LEVELS[rule.severity],
                                 "enabled": bool(rule.default_on)},
        "properties": {
            "family": rule.family,
            "severity": rule.severity,
            "fix": None if rule.fix is None else rule.fix.applicability,
            "tags": ["memory", rule.family],
        },
    }


def _uri(path: str) -> str:
    p = Path(path)
    return p.as_uri() if p.is_absolute() else p.as_posix().removeprefix("./")


def _region(start, end) -> dict:
    return {"startLine": start.line + 1, "startColumn": start.column + 1,
            "endLine": end.line + 1, "endColumn": end.column + 1}


def render(report: Report) -> str:
    rules = [_rule(r) for r in sorted(report.rules.values(), key=lambda r: r.id)]
    for code, text in _PSEUDO.items():
        rules.append({"id": code, "name": code, "shortDescription": {"text": text},
                      "fullDescription": {"text": text},
                      "defaultConfiguration": {"level": "error"}})
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.code,
            "level": LEVELS.get(f.severity, "warning"),
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(f.path)},
                "region": _region(f.start, f.end),
            }}],
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        if f.fix is not None:
            result["fixes"] = [{
                "description": {"text": f.fix.message},
                "artifactChanges": [{
                    "artifactLocation": {"uri": _uri(f.path)},
                    "replacements": [{
                        "deletedRegion": _region(e.start, e.end),
                        "insertedContent": {"text": e.content},
                    } for e in f.fix.edits],
                }],
            }]
            result["properties"] = {"fixApplicability": f.fix.applicability}
        if f.cell is not None:
            result.setdefault("properties", {}).update({"notebook": f.path, "cell": f.cell})
        results.append(result)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "memlens",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://github.com/memlens/memlens",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json_text(log)
