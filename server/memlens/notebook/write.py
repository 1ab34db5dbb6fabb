"""A notebook's JSON with new sources for some cells, every other byte as it was.

`--fix` must leave a notebook as Jupyter left it: outputs, execution counts, metadata, cell
ids, key order, indentation, escapes and the final newline (or its absence). Loading and
dumping the JSON again gets most of that right for a file Jupyter wrote (1-space indent,
`ensure_ascii=False`), and rewrites every line of any other (2-space indent from another tool,
`\\u00e9` escapes, `1e-05` spelled `1.0e-5`). So the `source` value of each fixed cell is found
in the text and replaced there, written in the style of the value it replaces: a string stays a
string, a list of lines stays a list with the same indentation, each line split where nbformat
splits it. What comes out is checked by loading it; should it not load as the notebook with
those sources, the notebook is dumped as Jupyter dumps it (its key order kept).
"""

from __future__ import annotations

import json
import re

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip_space(raw: str, i: int) -> int:
    """Where the whitespace that starts at raw[i] ends."""
    m = _SPACE.match(raw, i)
    assert m is not None  # (it matches the empty string too)
    return m.end()


def replace_sources(raw: str, sources: dict[int, str]) -> str:
    """`raw` (a notebook's JSON text) with the source of each cell in `sources` (by its 1-based
    place among all cells) replaced by the given text."""
    if not sources:
        return raw
    data = json.loads(raw)
    ascii_only = raw.isascii() and "\\u" in raw  # written with ensure_ascii=True
    try:
        spans = _source_spans(raw)
    except (ValueError, IndexError, RecursionError):
        spans = {}
    pieces, at = [], 0
    for number in sorted(sources):
        cell = data["cells"][number - 1]
        span = spans.get(number)
        if span is None:
            return _dumped(raw, data, sources)
        start, end = span
        value = _render(raw, start, end, cell.get("source"), sources[number], ascii_only)
        cell["source"] = json.loads(value)
        pieces += [raw[at:start], value]
        at = end
    out = "".join([*pieces, raw[at:]])
    try:
        if json.loads(out) == data:
            return out
    except ValueError:
        pass
    return _dumped(raw, data, sources)


def _dumped(raw: str, data: dict, sources: dict[int, str]) -> str:
    """The notebook dumped as nbformat writes it, but in its own key order."""
    for number, text in sources.items():
        old = data["cells"][number - 1].get("source")
        data["cells"][number - 1]["source"] = text.splitlines(True) \
            if isinstance(old, list) or old is None else text
    out = json.dumps(data, indent=1, ensure_ascii=False, separators=(",", ": "))
    return out + "\n" if raw.endswith("\n") else out


def _render(raw: str, start: int, end: int, old: object, text: str, ascii_only: bool) -> str:
    """The JSON of `text` as the value at raw[start:end] (`old`, parsed) was written."""
    if not isinstance(old, list):
        return json.dumps(text, ensure_ascii=ascii_only)
    # nbformat splits with str.splitlines (its writer's own split: the joined text is the same)
    items = [json.dumps(line, ensure_ascii=ascii_only) for line in text.splitlines(True)]
    if not items:
        return "[]"
    old_text = raw[start:end]
    first = _skip_space(old_text, 1)
    if old and "\n" in old_text[:first]:
        lead = old_text[1:first]  # "\n    ": the line break and indentation of each item
        close = old_text[len(old_text[:-1].rstrip()):-1]  # "\n   " before the "]"
    elif old or "\n" not in raw[:start]:
        return "[" + ", ".join(items) + "]"  # a list on one line, or a file on one line
    else:
        # it was empty: the items one step deeper than the line of its key, as Jupyter does
        line_start = raw.rfind("\n", 0, start) + 1
        key_line = raw[line_start:start]
        indent = key_line[:len(key_line) - len(key_line.lstrip(" \t"))]
        newline = "\r\n" if raw[line_start - 2:line_start] == "\r\n" else "\n"
        lead, close = newline + indent + _unit(raw), newline + indent
    return "[" + lead + ("," + lead).join(items) + close + "]"


def _unit(raw: str) -> str:
    """One step of the file's indentation: the top-level keys' (Jupyter: 1 space)."""
    m = re.match(r"[ \t\r\n]*\{\r?\n([ \t]+)", raw)
    return m.group(1) if m else " "


def _source_spans(raw: str) -> dict[int, tuple[int, int]]:
    """Where the `source` value of each cell is in `raw`: 1-based cell -> (start, end)."""
    top = _members(raw, _skip_space(raw, 0))
    if "cells" not in top:
        return {}
    start, _ = top["cells"]
    spans = {}
    for number, item in enumerate(_items(raw, start), start=1):
        if raw[item] == "{":
            source = _members(raw, item).get("source")
            if source is not None:
                spans[number] = source
    return spans


def _members(raw: str, i: int) -> dict[str, tuple[int, int]]:
    """The object at raw[i] ("{"): each key -> the span of its value (the last one wins, as
    json.loads keeps it)."""
    _expect(raw, i, "{")
    out: dict[str, tuple[int, int]] = {}
    i = _skip_space(raw, i + 1)
    if raw[i] == "}":
        return out
    while True:
        key, i = _DECODER.raw_decode(raw, i)
        i = _skip_space(raw, i)
        _expect(raw, i, ":")
        start = _skip_space(raw, i + 1)
        _, end = _DECODER.raw_decode(raw, start)
        out[key] = (start, end)
        i = _skip_space(raw, end)
        if raw[i] == "}":
            return out
        _expect(raw, i, ",")
        i = _skip_space(raw, i + 1)


def _items(raw: str, i: int) -> list[int]:
    """Where each item of the array at raw[i] ("[") starts."""
    _expect(raw, i, "[")
    out: list[int] = []
    i = _skip_space(raw, i + 1)
    if raw[i] == "]":
        return out
    while True:
        out.append(i)
        _, end = _DECODER.raw_decode(raw, i)
        i = _skip_space(raw, end)
        if raw[i] == "]":
            return out
        _expect(raw, i, ",")
        i = _skip_space(raw, i + 1)


def _expect(raw: str, i: int, char: str) -> None:
    if raw[i] != char:
        raise ValueError(f"expected {char!r} at {i}")
