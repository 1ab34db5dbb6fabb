"""Blanking the top-level blocks no rule needs: the blocks found from the text, which rules may
have them blanked (`locality.py`), and that a check with blanking finds exactly what a check of
the whole file finds."""

from __future__ import annotations

import ast
import textwrap

import pytest
from real_sources import sources

from memlens.engine import SYNTAX_ERROR, Engine, Settings
from memlens.engine.blocks import Layout, blanked
from memlens.engine.locality import CLASS_BODY, TOP_LEVEL, block_local
from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir

RULES = load_rule_dir(builtin_rule_dir())

# Code no rule matches, with what makes finding blocks hard: column-0 text in strings, a
# decorator, a backslash continuation, a comment at column 0 inside a function.
FILLER = textwrap.dedent('''\
    """Module docstring.

    def not_a_function():
        pass
    class NotAClass:
    """
    import os

    TEMPLATE = """
    def generated():
        return 1
    """


    @staticmethod
    def helper(a, b):
        text = """
    class Inside:
        x = 1
    """
    # a comment at column 0
        return os.path.join(a, b) + text


    class Shape:
        """A shape."""

        sides = 0

        def area(self):
            return 0

        @property
        def name(self):
            return """
    def not_a_method(self):
    """

        class Unit:
            pass

    total = 1 + \\
    2
    ''')


def _padded(snippet: str) -> str:
    """The snippet between enough filler to be worth blanking (and so that the blanked blocks
    sit on both sides of it)."""
    filler = FILLER.replace('"""Module docstring.', '"""Other docstring.')
    body = "\n".join(filler.replace("helper", f"helper{i}").replace("Shape", f"Shape{i}")
                     for i in range(4))
    return body + "\n\n" + snippet + "\n\n" + body.replace("helper", "after")


def test_blocks_of_definitions_with_decorators_and_strings():
    blocks = Layout(FILLER).blocks
    starts = [FILLER[s:e].split("\n", 1)[0] for s, e in blocks]
    assert starts == ["@staticmethod", "class Shape:"]
    helper = FILLER[blocks[0][0]:blocks[0][1]]
    assert "class Inside" in helper and "# a comment at column 0" in helper
    assert helper.rstrip().endswith("return os.path.join(a, b) + text")
    assert not FILLER[blocks[1][0]:blocks[1][1]].count("total")


def test_blanked_keeps_every_other_line_where_it_was():
    blocks = Layout(FILLER).blocks
    out = blanked(FILLER, blocks)
    assert out.count("\n") == FILLER.count("\n")
    for before, after in zip(FILLER.split("\n"), out.split("\n"), strict=True):
        assert after in ("", before)
    assert "def helper" not in out and "class Shape" not in out and "TEMPLATE" in out


def test_members_of_a_class():
    layout = Layout(FILLER)
    start, end = layout.blocks[1]
    members = [FILLER[s:e].strip().split("\n", 1)[0] for s, e in layout.members(start, end)]
    assert members == ["def area(self):", "@property", "class Unit:"]


def test_a_class_keeps_one_body_statement():
    text = "class A:\n    def f(self):\n        pass\n\n    def g(self):\n        pass\n"
    layout = Layout(text)
    members = [text[s:e].strip().split("\n", 1)[0] for s, e in layout.members(*layout.blocks[0])]
    assert members == ["def g(self):"]
    # a header over several lines, or a body on the header's line: not attempted
    for text in ("class A(\n    B):\n    def f(self):\n        pass\n",
                 "class A: x = 1\n"):
        assert Layout(text).members(*Layout(text).blocks[0]) == []


def test_backslash_continued_string_does_not_hide_a_block():
    text = 'x = "a\\\nb"\ns = """\n"""\ndef f():\n    return 1\n'
    assert [text[s:e] for s, e in Layout(text).blocks] == ["def f():\n    return 1\n"]


def test_rule_locality():
    by_id = {r.id: r for r in RULES}
    # only the definition a match is in (its statement, loop, function or decorators) and
    # imports matter
    for code in ("ML303", "ML306", "ML401", "ML402", "ML403", "ML502", "ML603",
                 "ML701", "ML702", "ML705"):
        assert block_local(by_id[code].config, TOP_LEVEL), code
        assert block_local(by_id[code].config, CLASS_BODY), code
    # other functions decide: whether one reads the loaded name, shrinks the container,
    # imports torch; or the statements after the loop; or (ML102) the statements after the
    # load that slice the loaded array in a loop, or the other methods of its class
    # (ML101, ML703: their lookups read the whole file, so the engine never blanks for them;
    # ML107, ML706: a Gradio callback is registered, and a helper called, outside the function)
    from memlens.engine.compiled import CompiledRule as _Compiled

    for code in ("ML101", "ML102", "ML703", "ML501", "ML205", "ML601", "ML301", "ML107",
                 "ML706"):
        assert not _Compiled(by_id[code]).local(TOP_LEVEL), code
    # its `precedes`/`follows` look at siblings inside the loop it requires
    assert block_local(by_id["ML602"].config, CLASS_BODY)


@pytest.mark.parametrize("rule, local", [
    ({"pattern": "f($A)", "inside": {"kind": "for_statement", "stopBy": "end"}}, True),
    ({"pattern": "f($A)", "precedes": {"pattern": "g()"}}, False),
    ({"pattern": "f($A)", "inside": {"kind": "module", "stopBy": "end",
                                      "has": {"kind": "import_statement"}}}, True),
    ({"pattern": "f($A)", "inside": {"kind": "module", "stopBy": "end",
                                      "has": {"kind": "import_statement", "stopBy": "end"}}},
     False),
    ({"pattern": "f($A)", "inside": {"kind": "module", "stopBy": "end",
                                      "has": {"kind": "function_definition"}}}, False),
    # an ancestor of any kind (the module too) with a `g()` anywhere below it
    ({"pattern": "f($A)", "inside": {"stopBy": "end", "has": {"pattern": "g()",
                                                              "stopBy": "end"}}}, False),
    # ... with one as a direct child: a call never is one of the module's
    ({"pattern": "f($A)", "inside": {"stopBy": "end", "has": {"pattern": "g()"}}}, True),
    ({"pattern": "f($A)", "inside": {"kind": "module", "stopBy": "end", "has": {
        "kind": "assignment", "stopBy": {"any": [{"kind": "function_definition"},
                                                  {"kind": "class_definition"},
                                                  {"kind": "decorated_definition"}]}}}}, True),
    ({"pattern": "f($A)", "inside": {"kind": "module", "stopBy": "end", "regex": "x"}}, False),
    # siblings: those of a node inside a loop stay; a top-level statement's may be blanked
    ({"kind": "expression_statement", "inside": {"kind": "for_statement", "stopBy": "end"},
      "precedes": {"pattern": "g()"}}, True),
    ({"kind": "expression_statement", "precedes": {"pattern": "g()"}}, False),
    # ... unless every sibling is searched, for something that is not a definition
    ({"kind": "expression_statement", "precedes": {"stopBy": "end", "kind": "try_statement"}},
     True),
    ({"kind": "expression_statement", "precedes": {"stopBy": "end", "has": {
        "pattern": "g()", "stopBy": "end"}}}, False),
    # the loop a node is in may itself be a top-level statement (ML205's shape)
    ({"pattern": "f($A)", "inside": {"kind": "for_statement", "not": {"precedes": {
        "stopBy": "end", "has": {"pattern": "g()", "stopBy": "end"}}}}}, False),
])
def test_locality_of_rule_shapes(rule, local):
    assert block_local({"rule": rule}) is local


@pytest.mark.parametrize("rule, top, members", [
    # another method of the class: blanked with the class's members, not with top-level blocks
    ({"pattern": "f($A)", "inside": {"kind": "class_definition", "stopBy": "end",
                                      "has": {"kind": "function_definition", "stopBy": "end"}}},
     True, False),
    # a body statement of the class: it stays
    ({"pattern": "f($A)", "inside": {"kind": "class_definition", "stopBy": "end", "has": {
        "kind": "block", "has": {"kind": "expression_statement"}}}}, True, False),
    ({"pattern": "f($A)", "inside": {"kind": "class_definition", "stopBy": "end", "has": {
        "kind": "expression_statement", "stopBy": {"any": [
            {"kind": "function_definition"}, {"kind": "class_definition"},
            {"kind": "decorated_definition"}]}}}}, True, True),
    # what encloses the match, up to its function: in its block at either level
    ({"pattern": "f($A)", "inside": {"kind": "function_definition", "stopBy": "end",
                                      "has": {"pattern": "g()", "stopBy": "end"}}}, True, True),
])
def test_locality_by_level(rule, top, members):
    assert block_local({"rule": rule}, TOP_LEVEL) is top
    assert block_local({"rule": rule}, CLASS_BODY) is members


def _without_syntax_errors(findings):
    return [f for f in findings if f.code != SYNTAX_ERROR]


def test_blanking_finds_what_the_whole_file_check_finds():
    """Every snippet of every rule, between blocks that can be blanked: the check `memlens
    check` runs (prefilter, blanking) equals every rule run on the whole file."""
    filtered = Engine(Settings(select=("ALL",)))
    whole = Engine(Settings(select=("ALL",)), filter_rules=False)
    snippets = [s for rule in RULES for s in (*rule.invalid, *rule.valid)]
    # and each one as the body of a class among other members (the class's members that no
    # rule needs are blanked; its own statements stay)
    members = textwrap.indent(FILLER.split("@staticmethod", 1)[1].split("class Shape", 1)[0]
                              .replace("def helper", "@staticmethod\ndef helper"), "    ")
    wrapped = ["class Wrapper:\n    sides = 0\n" + members + textwrap.indent(s, "    ") + members
               for s in snippets]
    texts = [_padded(s) for s in (*snippets, *wrapped)]
    for text in texts:
        assert _without_syntax_errors(filtered.check_source(text, "t.py")) == \
            _without_syntax_errors(whole.check_source(text, "t.py", parse_whole=True)), text
    # the comparison means something only if blanking happened, often
    assert filtered.stats["blanked"] > 100 * len(FILLER)


def test_a_cut_statement_falls_back_to_the_whole_file():
    """A line at column 0 inside brackets ends a block too early: the kept text does not parse,
    and the file is checked whole."""
    snippet = textwrap.dedent("""\
        import numpy as np

        def collect(rows):
            out = np.empty((0, 8))
            for row in rows:
                out = np.concatenate([out, row[None]], axis=0)
            return out

        def table():
            return [
        1, 2]
        """)
    text = _padded(snippet)
    engine = Engine(Settings(select=("ALL",)))
    findings = engine.check_source(text, "t.py")
    assert engine.stats["unblanked"] == 1
    assert [f.code for f in findings] == ["ML401"]
    assert not any(f.code == SYNTAX_ERROR for f in findings)


def test_a_rule_that_reads_other_members_keeps_them():
    """A rule that looks at the other methods of the class: local at the top level (the class
    is one block), not among a class's members, so no member is blanked while it may match."""
    from memlens.engine.rulebook import parse_rule

    rule = parse_rule({
        "id": "XT900", "message": "flush() in a class with a close() method", "severity": "info",
        "note": "## What it does\n## Why is this bad\n## Example\n## Use instead\n",
        "metadata": {"family": "test", "default": True},
        "rule": {"pattern": "flush()", "inside": {
            "stopBy": "end", "kind": "class_definition",
            "has": {"stopBy": "end", "kind": "function_definition",
                    "has": {"field": "name", "kind": "identifier", "regex": "^close$"}}}},
    })
    assert block_local(rule.config, TOP_LEVEL) and not block_local(rule.config, CLASS_BODY)
    members = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(60))
    text = ("class Stream:\n    mode = 'w'\n\n" + members +
            "    def write(self):\n        flush()\n\n" + members +
            "    def close(self):\n        return None\n")
    engine = Engine(Settings(), rules=[rule])
    assert [f.code for f in engine.check_source(text, "t.py")] == ["XT900"]


def test_members_of_a_decorated_class_and_functions_known_for_certain():
    text = textwrap.dedent('''\
        @dataclass
        class Point:
            x: int = 0

            def norm(self):
                return abs(self.x)

        @cache
        def load():
            return 1

        def broken():
            s = """
        text at column 0
        """
            return s
        ''')
    layout = Layout(text)
    assert [text[s:e].split("\n", 1)[0] for s, e in layout.members(*layout.blocks[0])] == [
        "    def norm(self):"]
    bodies = [text[s:e].split("\n", 1)[0] for s, e in layout.function_bodies()]
    # decorators are outside the function; `broken` has a line the layout cannot vouch for
    assert bodies == ["    def norm(self):", "def load():"]


def test_block_words_are_whole_words_as_in_the_file_word_set():
    from memlens.engine.prefilter import BlockText, FileText

    text = "x = 1\ndef f(settings, _sum):\n    return sum(settings) + résumé_set + set_\n"
    start = text.index("def")
    block = BlockText(text, start, len(text))
    words = FileText(text[start:]).words
    for word in ("set", "sum", "settings", "_sum", "return", "x", "def", "set_", "résumé_set"):
        assert block.has_word(word) == (word.encode() in words), word
    assert not block.has_word("set") and block.has_word("sum") and not block.has_word("x")


# -- the top-level spans the language server's incremental check is cut into ------------------

def _spans(text: str) -> list[tuple[int, int, bool]]:
    return [(s.start, s.end, s.definition) for s in Layout(text).spans()]


def test_spans_of_top_level_statements():
    text = textwrap.dedent('''\
        # a comment first
        import os
        X = 1

        @decorator
        @other(1,
               2)
        def f():
            return 1
        # a comment at column 0 stays with what it follows

        class C:
            pass
        async def g():
            pass
        Y = 2
        Z = """
        def not_a_block():
        """
        ''')
    # (the comment above the first statement is a span of its own, as in the parser's view)
    assert _spans(text) == [(0, 1, False), (1, 4, False), (4, 11, True), (11, 13, True),
                            (13, 15, True), (15, 20, False)]
    assert _spans("") == [(0, 1, False)]
    assert _spans("def f():\n    pass") == [(0, 2, True)]
    assert _spans("# only\n# comments\n") == [(0, 3, False)]


def _parser_spans(text: str) -> list[tuple[int, int, bool]]:
    """The same cut from the parser's top-level statements: the model `Layout.spans` follows."""
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    starts: dict[int, bool] = {}
    previous_glue = False
    for stmt in ast.parse(text).body:
        line = min([d.lineno for d in getattr(stmt, "decorator_list", [])] + [stmt.lineno]) - 1
        if isinstance(stmt, definitions):
            starts.setdefault(line, True)
            previous_glue = False
        elif not previous_glue:
            starts[line] = False
            previous_glue = True
    starts.setdefault(0, False)
    lines = sorted(starts)
    end = text.count("\n") + 1
    return [(s, e, starts[s]) for s, e in zip(lines, [*lines[1:], end], strict=True) if e > s]


def _column_zero_inside_a_statement(text: str) -> bool:
    """Whether a line inside a top-level statement starts at column 0 with code (in brackets,
    or in a string): the one case the text cannot tell from a new statement."""
    lines = text.split("\n")
    for stmt in ast.parse(text).body:
        for i in range(stmt.lineno, stmt.end_lineno or stmt.lineno):
            if lines[i][:1] not in ("", " ", "\t", "#", ")", "]", "}"):
                return True
    return False


def test_spans_are_the_statements_the_parser_sees_on_real_code():
    """Lines at column 0 inside a statement aside (the incremental check then meets a region
    that does not parse alone, and widens it), the text finds what the parser finds."""
    checked = 0
    for path in sources(400):
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            want = _parser_spans(text)
        except (SyntaxError, ValueError):
            continue
        checked += 1
        if _column_zero_inside_a_statement(text):
            continue
        assert _spans(text) == want, path
    assert checked > 300 or checked == len(sources(400))
