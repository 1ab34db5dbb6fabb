"""New sources written into a notebook's JSON text: only the `source` values of those cells
change, each written in the style of the value it replaces."""

from __future__ import annotations

import json

import nbformat

from memlens.notebook.write import replace_sources


def _nb(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title é")]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i}"
    return nb


def _jupyter(nb: nbformat.NotebookNode, **changes: str) -> str:
    nb = nbformat.from_dict(json.loads(nbformat.writes(nb)))
    for number, text in changes.items():
        nb.cells[int(number[1:]) - 1].source = text
    return nbformat.writes(nb) + "\n"


def test_a_file_jupyter_wrote_is_what_jupyter_writes_with_the_new_sources():
    nb = _nb("import a\nx = 1\n", "", "y = 2")
    raw = nbformat.writes(nb) + "\n"
    # a cell grown from empty, one emptied, one with more lines
    out = replace_sources(raw, {2: "import b\n", 3: "z = 3\nw = 4", 4: ""})
    assert out == _jupyter(nb, c2="import b\n", c3="z = 3\nw = 4", c4="")


def test_a_string_source_stays_a_string_and_the_rest_stays_byte_for_byte():
    data = json.loads(nbformat.writes(_nb("x = 1\ny = 2")))
    data["cells"][1]["source"] = "x = 1\ny = 2"
    raw = json.dumps(data, indent=4, ensure_ascii=True)
    out = replace_sources(raw, {2: "x = 1\ny = 3"})
    assert out == raw.replace('"x = 1\\ny = 2"', '"x = 1\\ny = 3"')


def test_windows_line_breaks_and_a_file_on_one_line_keep_their_layout():
    nb = _nb("x = 1\ny = 2", "")
    crlf = (nbformat.writes(nb) + "\n").replace("\n", "\r\n")
    out = replace_sources(crlf, {2: "x = 1\ny = 3", 3: "a\nb"})
    assert "\n" not in out.replace("\r\n", "")
    assert out.replace("\r\n", "\n") == _jupyter(nb, c2="x = 1\ny = 3", c3="a\nb")
    compact = json.dumps(json.loads(nbformat.writes(nb)))
    out = replace_sources(compact, {2: "x = 1\ny = 3", 3: "a"})
    assert "\n" not in out
    assert [c["source"] for c in json.loads(out)["cells"]][1:] == [["x = 1\n", "y = 3"], ["a"]]
