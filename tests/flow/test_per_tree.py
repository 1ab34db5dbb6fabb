"""`syntax.per_tree`: one file's index, built once per parsed tree, never another file's."""

from __future__ import annotations

from ast_grep_py import SgRoot

from memlens.flow import syntax as sx


def _tree(name: str, count: int):
    return SgRoot("\n".join(f"{name} = {name} + {i}" for i in range(count)) + "\n",
                  "python").root()


def test_each_file_gets_its_own_identifiers_in_source_order():
    a, b = _tree("a", 3), _tree("b", 5)
    for root, name, count in ((a, "a", 3), (b, "b", 5), (a, "a", 3)):
        found = sx.identifiers_named(root, name)
        assert len(found) == 2 * count
        assert [sx.start(n) for n in found] == sorted(sx.start(n) for n in found)
        assert all(n.get_root() is root.get_root() for n in found)
        assert sx.identifiers_named(root, "a" if name == "b" else "b") == []


def test_names_in_a_scope_are_those_inside_it():
    root = SgRoot("x = 1\ndef f():\n    x = 2\n    return x\nx\n", "python").root()
    function = root.find(kind="function_definition")
    assert [n.range().start.line for n in sx.names_in(function, "x")] == [2, 3]
    assert [n.range().start.line for n in sx.names_in(root, "x")] == [0, 2, 3, 4]


def test_names_in_a_node_stop_at_its_end():
    # `[x][x]`: the list ends where the subscript's bracket starts, one before the next `x`
    root = SgRoot("[x][x]\n", "python").root()
    first = root.find(kind="list")
    assert [sx.start(n) for n in sx.names_in(first, "x")] == [1]
    assert len(sx.names_in(root, "x")) == 2
