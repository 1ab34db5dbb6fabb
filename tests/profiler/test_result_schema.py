"""The profile result's one schema (`profiler/result.py`): every failure says its kind, which
the editor switches on (never on message text), and the JSON reads back into the same record."""

from __future__ import annotations

import pytest
from profiler_helpers import FIXTURES, run_cli

from memlens.profiler import ErrorKind, ProfileResult, Status, profile

LIBRARY = FIXTURES / "library.py"


@pytest.mark.parametrize(("args", "status", "kind"), [
    ([f"{LIBRARY}::explain"], "setup_error", "needs_call"),  # needs `data`, no __main__
    ([f"{LIBRARY}::nope"], "not_found", "not_found"),
    ([f"{LIBRARY}::no_args", "--cwd", "/no/such/folder"], "setup_error", "not_a_directory"),
    ([f"{LIBRARY}::explode", "--call", "explode(2)"], "raised", "raised"),
    ([f"{LIBRARY}::no_args", "--call", "len([])"], "not_found", "never_called"),
    ([f"{LIBRARY}::no_args", "--python", "/no/such/python"], "setup_error", "start_failed"),
    ([f"{FIXTURES / 'missing.py'}::f"], "setup_error", "unreadable"),
])
def test_every_failure_says_its_kind(args, status, kind):
    code, result = run_cli(*args)
    assert (result["status"], result["error"]["kind"]) == (status, kind), result["error"]
    assert result["error"]["message"]
    assert code == 2 if status in ("setup_error", "not_found") else 1


def test_an_ok_run_has_no_error_and_reads_back_into_the_same_record():
    code, data = run_cli(f"{LIBRARY}::no_args")
    assert code == 0 and data["status"] == "ok" and data["error"] is None
    assert ProfileResult.from_json(data).to_json() == data


def test_the_typed_api_gives_the_record():
    result = profile(LIBRARY, "explain")
    assert result.status is Status.SETUP_ERROR
    assert result.error.kind is ErrorKind.NEEDS_CALL
    assert [row.line for row in result.lines] == list(range(result.first_line,
                                                            result.last_line + 1))
