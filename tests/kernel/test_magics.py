"""`%load_ext memlens` in a real kernel (ipykernel through nbclient): `%%memlens` on a cell,
`%memlens EXPR` on a function defined in an earlier cell, `-f` on a function the call reaches,
and the three forms of the output."""

from __future__ import annotations

import pytest

from memlens.jupyter.display import MIME
from memlens.profiler import ProfileResult

ONES_MIB = 10_000_000 * 8 / 2**20  # np.ones(10_000_000): 76.3 MiB

pytest.importorskip("numpy")


def displayed(outputs: list[dict]) -> dict:
    """The one memlens display among a cell's outputs: its mime bundle."""
    found = [o["data"] for o in outputs if o["output_type"] == "display_data" and MIME in o["data"]]
    assert len(found) == 1, outputs
    return found[0]


def errors(outputs: list[dict]) -> list[dict]:
    return [o for o in outputs if o["output_type"] == "error"]


def rows(result: dict) -> dict[int, dict]:
    return {row["line"]: row for row in result["lines"]}


@pytest.fixture(scope="module")
def loaded(kernel):
    outputs = kernel.run("%load_ext memlens\nimport numpy as np\nsize = 10_000_000")
    assert not errors(outputs), outputs
    return kernel


def test_cell_magic_profiles_the_cells_lines_in_the_kernel(loaded):
    bundle = displayed(loaded.run(
        "%%memlens\nones = np.ones(size)\n%time twice = ones * 2\ndel ones\nkept = twice\n"))
    result = bundle[MIME]
    assert (result["status"], result["entry"], result["qualname"]) == ("ok", "cell", None)
    by_line = rows(result)
    assert sorted(by_line) == [2, 3, 4, 5]  # the cell's own numbering: line 1 is %%memlens
    assert by_line[2]["source"] == "ones = np.ones(size)"
    assert abs(by_line[2]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB, by_line[2]
    # a line magic inside the cell runs through IPython's transform, on its own line
    assert abs(by_line[3]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB, by_line[3]
    assert abs(-by_line[4]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB, by_line[4]
    # the cell ran in the user's namespace: what it bound is there afterwards
    check = loaded.run("print(kept.shape, 'ones' in dir())")
    assert check[0]["text"].strip() == "(10000000,) False"


def test_the_three_forms_say_the_same(loaded):
    bundle = displayed(loaded.run("%%memlens\nbig = np.ones(size)\nsmall = [0] * 10"))
    result = bundle[MIME]
    assert ProfileResult.from_json(result).to_json() == result  # the CLI's JSON schema
    assert set(ProfileResult(None, None).to_json()) <= set(result)
    text, page = bundle["text/plain"], bundle["text/html"]
    assert "Line #    Mem usage    Increment  Occurrences   Line Contents" in text
    assert "big = np.ones(size)" in text and "Status:    ok" in text
    assert "<table" in page and "big = np.ones(size)" in page
    # one bar per line that changed memory: the allocation's is the widest
    assert page.count('<div style="width:120px') == 1


def test_line_magic_profiles_a_function_defined_in_an_earlier_cell(loaded):
    assert not errors(loaded.run(
        "def build(n):\n    base = np.ones(n)\n    scaled = base * 3\n    return float(scaled[0])\n"))
    outputs = loaded.run("%memlens build(size)")
    result = displayed(outputs)[MIME]
    assert (result["status"], result["qualname"], result["call"]) == ("ok", "build", "build(size)")
    assert (result["first_line"], result["last_line"], result["calls"]) == (1, 4, 1)
    by_line = rows(result)
    assert by_line[1]["source"] == "def build(n):"  # read through linecache: the cell's text
    assert abs(by_line[2]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB, by_line[2]
    assert by_line[4]["occurrences"] == 1
    assert "build, defined in Cell In[" in displayed(outputs)["text/plain"]


def test_dash_f_profiles_a_function_the_call_reaches(loaded):
    assert not errors(loaded.run(
        "def leaf(n):\n    return np.ones(n).sum()\n\n"
        "def trunk(k):\n    return sum(leaf(1000) for _ in range(k))\n"))
    result = displayed(loaded.run("%memlens -f leaf trunk(7)"))[MIME]
    assert (result["qualname"], result["calls"]) == ("leaf", 7)
    assert rows(result)[2]["occurrences"] == 7


def test_an_exception_shows_the_lines_so_far_then_fails_the_cell(loaded):
    outputs = loaded.run("%%memlens\nbefore = np.ones(size)\nraise ValueError('bad batch')\n")
    result = displayed(outputs)[MIME]
    assert result["status"] == "raised" and result["error"]["type"] == "ValueError"
    assert rows(result)[2]["occurrences"] == 1
    assert [e["ename"] for e in errors(outputs)] == ["ValueError"]


def test_a_builtin_or_a_non_call_is_a_usage_error(loaded):
    for line, says in (("%memlens len([1])", "len is not a Python function"),
                       ("%memlens size", "'size' calls no function"), ("%memlens", "usage:")):
        outputs = loaded.run(line)  # a kernel prints a UsageError on stderr, without traceback
        printed = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
        assert printed.startswith("UsageError: ") and says in printed, (line, outputs)
