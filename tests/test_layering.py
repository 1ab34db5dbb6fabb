"""The layering of server/memlens, read from its import graph (grimp): no import cycles, and the
engine and the profiler know nothing of the language server."""

from __future__ import annotations

import sys
from pathlib import Path

import grimp
import pytest

SERVER = Path(__file__).resolve().parents[1] / "server"
# What only the language server may import: its own package and the protocol libraries.
LSP_ONLY = ("memlens.lsp", "pygls", "lsprotocol", "cattrs")


@pytest.fixture(scope="module")
def graph():
    sys.path.insert(0, str(SERVER))
    try:
        return grimp.build_graph("memlens", include_external_packages=True, cache_dir=None)
    finally:
        sys.path.remove(str(SERVER))


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m.startswith("memlens"))
    edges = {m: sorted(d for d in graph.find_modules_directly_imported_by(m)
                       if d.startswith("memlens")) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in modules:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    class Fake:
        modules = {"memlens.a", "memlens.b", "memlens.c"}

        @staticmethod
        def find_modules_directly_imported_by(m):
            return {"memlens.a": {"memlens.b"}, "memlens.b": {"memlens.a"},
                    "memlens.c": {"memlens.a"}}[m]

    assert _cycles(Fake()) == [["memlens.a", "memlens.b"]]


def test_no_import_cycles(graph):
    cycles = _cycles(graph)
    chains = [" -> ".join(graph.find_shortest_chain(c[0], c[1]) or c) for c in cycles]
    assert not cycles, "import cycles:\n" + "\n".join(chains)


@pytest.mark.parametrize("layer", ["memlens.engine", "memlens.profiler"])
def test_engine_and_profiler_know_nothing_of_the_server(graph, layer):
    members = {layer} | graph.find_descendants(layer)
    wrong = sorted(
        f"{m} imports {d}" for m in members for d in graph.find_modules_directly_imported_by(m)
        if any(d == x or d.startswith(x + ".") for x in LSP_ONLY))
    assert not wrong, "\n".join(wrong)
