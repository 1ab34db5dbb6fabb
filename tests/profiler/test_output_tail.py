"""The profiled program's output: only its tail is kept, as it is written.

It went to a temporary file with no bound, which the parent (the CLI, or the language server
itself) then read whole to keep its last 8,000 characters: 2 GB of output cost the server
1.5 GiB of RSS, and the file could fill the disk.
"""

import tracemalloc

from memlens.profiler import Status, profile

MIB = 1 << 20
LOUD = """\
import sys


def loud(mib):
    line = "x" * 1023 + "\\n"
    for _ in range(mib * 1024):
        sys.stdout.write(line)
    print("the end", file=sys.stderr)
"""


def test_a_program_that_prints_hundreds_of_mib_costs_the_parent_only_its_tail(tmp_path):
    target = tmp_path / "loud.py"
    target.write_text(LOUD)
    tracemalloc.start()
    try:
        result = profile(target, "loud", call="loud(200)", timeout=120)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.status is Status.OK, result.error
    assert result.output.endswith("x\nthe end\n")
    assert 7000 <= len(result.output) <= 8000
    assert peak < 16 * MIB, f"the parent held {peak / MIB:.0f} MiB for 200 MiB of output"
