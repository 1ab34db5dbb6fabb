"""`lookup.Tables` shared by the rules of one file: a util several rules name is searched once,
and a table is shared only between utils written alike (with every util they name)."""

from __future__ import annotations

from memlens.engine import Engine, Settings
from memlens.engine.lookup import Tables
from memlens.engine.parse import parse

TEXT = "import io\n\ndef f():\n    s = io.BytesIO(b'x')\n    t = open('p')\n    return s, t\n"


class _Counting:
    """A root that counts its searches."""

    def __init__(self, root):
        self.root, self.searches = root, 0

    def find_all(self, config):
        self.searches += 1
        return self.root.find_all(config)

    def text(self):
        return self.root.text()


def _utils(call: str) -> dict:
    return {"stream": {"kind": "identifier", "inside": {"kind": "assignment", "has": {
        "field": "right", "matches": "opener"}}},
            "opener": {"kind": "call", "has": {"field": "function", "regex": call}}}


def test_a_util_two_rules_name_alike_is_searched_once_per_file():
    root = _Counting(parse(TEXT))
    shared: dict = {}
    first = Tables(root, _utils("BytesIO"), None, shared).texts("stream")
    second = Tables(root, _utils("BytesIO"), None, shared).texts("stream")
    assert first == second == {"s"}
    assert root.searches == 1


def test_utils_of_one_name_written_differently_get_their_own_tables():
    root = _Counting(parse(TEXT))
    shared: dict = {}
    # the same util, naming a util that differs: each table is its own
    assert Tables(root, _utils("BytesIO"), None, shared).texts("stream") == {"s"}
    assert Tables(root, _utils("open"), None, shared).texts("stream") == {"t"}
    assert Tables(root, {**_utils("open"), "stream": {"kind": "identifier", "regex": "^s$"}},
                  None, shared).texts("stream") == {"s"}
    assert root.searches == 3


def test_assigned_from_tables_are_shared_by_their_regex():
    root = _Counting(parse("here = Path(__file__).parent\ndata = here / 'd'\nx = 1\n"))
    shared: dict = {}
    a = Tables(root, {}, {"rel": r"__file__"}, shared).texts("rel")
    b = Tables(root, {}, {"rel": r"\d$"}, shared).texts("rel")
    assert a == {"here", "data"} and b == {"x"}


def test_rules_sharing_tables_find_what_each_finds_alone():
    """Every rule with a lookup, all at once and one by one, on the rules' own snippets."""
    from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir

    rules = [r for r in load_rule_dir(builtin_rule_dir()) if r.lookup is not None]
    assert len(rules) >= 3
    together = Engine(Settings(select=tuple(r.id for r in rules)))
    alone = {r.id: Engine(Settings(select=(r.id,))) for r in rules}
    texts = [s for r in rules for s in (*r.invalid, *r.valid)]
    text = "\n\n".join(texts)  # one file that many rules' tables read
    for sample in [*texts, text]:
        want = sorted((f for e in alone.values() for f in e.check_source(sample, "t.py")
                       if f.code != "syntax-error"), key=lambda f: (f.start, f.end, f.code))
        got = [f for f in together.check_source(sample, "t.py") if f.code != "syntax-error"]
        assert got == want


def test_if_bound_asks_the_table_only_of_the_branch_that_binds_the_variable():
    from memlens.engine.lookup import LookupError_, parse_lookup

    root = parse("def load():\n    return 1\n\ndef idle():\n    return 2\n\nload()\nx = 3\n")
    utils = {"called": {"kind": "identifier", "inside": {"kind": "call", "field": "function"}}}
    # a `return` in a function binds $F (the function's name); a module-level `x = 3` does not
    rule = {"rule": {"any": [
        {"kind": "return_statement", "inside": {"stopBy": "end", "kind": "function_definition",
                                                "has": {"field": "name", "pattern": "$F"}}},
        {"kind": "assignment"}]}}
    matches = root.find_all(rule)
    tables = Tables(root, utils)
    strict = parse_lookup([{"var": "F", "in": "called"}], utils)
    lenient = parse_lookup([{"var": "F", "in": "called", "if-bound": True}], utils)
    assert [m.text() for m in matches if strict.holds(m, tables)] == ["return 1"]
    assert [m.text() for m in matches if lenient.holds(m, tables)] == ["return 1", "x = 3"]
    try:
        parse_lookup([{"names-of": "F", "in": "called", "if-bound": True}], utils)
    except LookupError_:
        pass
    else:
        raise AssertionError("if-bound is for `var` items only")
