"""Who holds a value and for how long; two values held at once; a load used by nobody."""

from __future__ import annotations

import textwrap

import pytest
from ast_grep_py import SgRoot
from flow_helpers import node_of

from memlens.flow.conditions import FileFlow, parse_flow
from memlens.flow.lifetime import exclusive, holder_of, overlap

LOAD = "load($X)"


def _loads(source: str):
    root = SgRoot(textwrap.dedent(source), "python").root()
    return root, list(root.find_all(pattern=LOAD))


def test_an_attribute_of_self_through_calls_that_return_the_same_object():
    _, node = node_of("""\
        class A:
            def __init__(self, device):
                self.pipe = load("sd").to(device).eval()
        """, LOAD)
    held = holder_of(node)
    assert held.kind == "instance" and held.name == "pipe"


def test_an_argument_of_a_constructor_or_loader_is_held_by_what_it_builds():
    _, node = node_of("""\
        class A:
            def __init__(self):
                self.pipe = Pipeline.from_pretrained("sd", safety_checker=load("checker"))
        """, LOAD)
    assert holder_of(node).name == "pipe"


@pytest.mark.parametrize("source", [
    "print(load('a'))",                 # passed to a function that keeps nothing
    "load('a')",                        # dropped
    "def f():\n    return load('a')",   # returned
    "x.y = load('a')",                  # an attribute of something other than self
    "m = load('a').state_dict()",       # a different object
    "d['k'] = load('a')",               # stored in a container
])
def test_holders_the_code_does_not_show(source):
    _, node = node_of(source, LOAD)
    assert not holder_of(node).known


def test_a_name_until_it_is_bound_again():
    root, (a, b) = _loads("""\
        m = load("x")
        m.predict(1)
        m = load("x")
        """)
    first = holder_of(a)
    assert first.kind == "name" and not first.unused
    assert first.until is not None and first.until.text().startswith("m = load")
    assert not overlap(first, holder_of(b))  # the second replaces the first


def test_a_name_bound_again_before_any_read_was_never_used():
    _, (a, _b) = _loads("""\
        qa = load("table-qa")
        qa = load("table-qa")
        qa(table)
        """)
    assert holder_of(a).unused


def test_a_rebinding_that_reads_the_old_value_uses_it():
    _, (a,) = _loads("""\
        m = load("x")
        m = m.to("cuda")
        """)
    assert not holder_of(a).unused


def test_two_names_held_at_once_and_a_deleted_one():
    _, (a, b) = _loads("""\
        enc = load("x")
        q = load("x")
        """)
    assert overlap(holder_of(a), holder_of(b))
    _, (a, b) = _loads("""\
        enc = load("x")
        del enc
        q = load("x")
        """)
    assert not overlap(holder_of(a), holder_of(b))


def test_attributes_of_two_classes_and_one_attribute_reloaded():
    _, (a, b) = _loads("""\
        class A:
            def __init__(self):
                self.pipe = load("sd")
        class B:
            def __init__(self):
                self.pipe = load("sd")
        """)
    assert overlap(holder_of(a), holder_of(b))
    _, (a, b) = _loads("""\
        class A:
            def __init__(self):
                self.model = load("sd")
            def reset(self):
                self.model = load("sd")
        """)
    assert not overlap(holder_of(a), holder_of(b))


def test_names_of_different_functions_and_of_exclusive_branches():
    _, (a, b) = _loads("""\
        def f():
            m = load("x")
        def g():
            m2 = load("x")
        """)
    assert not overlap(holder_of(a), holder_of(b))
    _, (a, b) = _loads("""\
        if gpu:
            m = load("x")
        else:
            n = load("x")
        """)
    assert exclusive(holder_of(a).bound, holder_of(b).bound)
    assert not overlap(holder_of(a), holder_of(b))


def _twin_matches(source: str):
    root, nodes = _loads(source)
    conditions = parse_flow([{"twin": "X"}])
    flow = FileFlow(root)
    return [(n.range().start.line, conditions.holds(n, flow, nodes)) for n in nodes]


def test_the_twin_condition_pairs_equal_ids_held_at_once():
    found = _twin_matches("""\
        a = load("gpt2")
        b = load('gpt2')
        c = load("bert")
        """)
    assert found[0][1] == {"twin": "again at line 2, while this copy is still held"}
    assert found[1][1] is not None
    assert found[2][1] is None  # no other load of "bert"


def test_the_twin_condition_on_an_unused_first_copy():
    found = _twin_matches("""\
        qa = load("t")
        qa = load("t")
        qa(1)
        """)
    assert found[0][1] == {"twin": "again at line 2, before this copy is ever used"}
    assert found[1][1] is None  # the second copy is the one kept


def test_the_twin_condition_needs_a_metavariable():
    from memlens.flow.conditions import FlowError

    with pytest.raises(FlowError):
        parse_flow([{"twin": "x"}])
    with pytest.raises(FlowError):
        parse_flow([{"twin": "X", "of": "Y"}])
