"""The three entry modes (script, --call, --pytest) and the zero-argument call, end to end."""

from profiler_helpers import FIXTURES, assert_gone, line, run_cli

NUMPY_WORK = str(FIXTURES / "numpy_work.py")
LIBRARY = str(FIXTURES / "library.py")


def test_script_entry_passes_args_and_profiles_every_call():
    code, result = run_cli(f"{NUMPY_WORK}::build_rows", "--", "5000")
    assert code == 0, result["error"]
    assert result["entry"] == "script" and result["status"] == "ok"
    assert result["calls"] == 3  # main() calls it three times; all are aggregated
    assert line(result, "rows.append(")["occurrences"] == 3 * 5000
    assert line(result, "for i in range(count)")["occurrences"] == 3 * 5001
    assert result["gc"]["collections"][0] > 0  # 15000 dicts trigger gen0 collections
    assert_gone(result["pid"])


def test_call_entry_evaluates_expression_in_module_namespace():
    code, result = run_cli(f"{LIBRARY}::explain", "--call", "explain(load_data()[:40000])")
    assert code == 0, result["error"]
    assert result["entry"] == "call"
    weights = line(result, "weights = [x * 2.0")
    assert weights["occurrences"] == 1 and weights["increment_mib"] > 0.5
    assert line(result, "return sum(squares)")["occurrences"] == 1
    # every line of the function, the `def` line (never "runs") included
    assert [r["line"] for r in result["lines"]] == list(
        range(result["first_line"], result["last_line"] + 1))
    assert result["lines"][0]["occurrences"] == 0 and result["lines"][0]["mem_usage_mib"] is None


def test_zero_argument_function_is_called_without_call_or_main_block():
    code, result = run_cli(f"{LIBRARY}::no_args")
    assert code == 0, result["error"]
    assert result["entry"] == "call" and result["calls"] == 1


def test_function_needing_arguments_without_entry_is_a_setup_error():
    code, result = run_cli(f"{LIBRARY}::explain")
    assert code == 2 and result["status"] == "setup_error"
    assert "--call" in result["error"]["message"]


def test_pytest_entry_runs_the_test_and_profiles_the_function():
    node = str(FIXTURES / "pytest_workload.py") + "::test_explain"
    # without this repo's pytest plugins (pytest-lsp, hypothesis...): 1 s instead of 5-8 s
    code, result = run_cli(f"{LIBRARY}::explain", "--pytest", node, "--cwd", str(FIXTURES),
                           env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert code == 0, result
    assert result["entry"] == "pytest" and result["calls"] == 1
    assert line(result, "squares = [w * w")["occurrences"] == 1
    assert "1 passed" in result["output"]


def test_class_method_qualname():
    code, result = run_cli(f"{NUMPY_WORK}::Model.fit", "--", "10")
    assert code == 0, result["error"]
    weights = line(result, "self.weights = np.ones(")
    # 20000 x 1000 float64 = 152.6 MiB
    assert abs(weights["increment_mib"] - 152.59) < 0.05 * 152.59


def test_not_found_lists_candidates():
    code, result = run_cli(f"{LIBRARY}::Nodes.__init__")
    assert code == 2 and result["status"] == "not_found"
    assert "Node.__init__" in result["candidates"] and "explain" in result["candidates"]
    assert "Node.__init__" in result["error"]["message"]
    assert result["pid"] is None  # decided statically: no process started


def test_raised_exception_keeps_lines_and_traceback():
    code, result = run_cli(f"{LIBRARY}::explode", "--call", "explode(4)")
    assert code == 1 and result["status"] == "raised"
    assert result["error"]["type"] == "ValueError"
    assert "bad value after 4 iterations" in result["error"]["message"]
    assert 'library.py", line' in result["error"]["traceback"]
    assert "runner.py" not in result["error"]["traceback"]
    assert line(result, "values[i] = i")["occurrences"] == 4
    assert line(result, "raise ValueError")["occurrences"] == 1
    assert_gone(result["pid"])


def test_text_output_is_a_readable_table():
    import subprocess

    from profiler_helpers import MEMLENS, ROOT

    proc = subprocess.run(
        [str(MEMLENS), "profile", f"{LIBRARY}::explain", "--call", "explain(load_data())"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Line #    Mem usage    Increment  Occurrences   Line Contents" in out
    assert "def explain(data):" in out and " MiB" in out
    assert "Status:    ok" in out and "Peak:" in out and "GC:" in out
    assert "Children:  not included" in out


def test_call_entry_in_a_package_with_relative_imports_and_profile_decorator():
    code, result = run_cli(f"{FIXTURES / 'pkg' / 'work.py'}::transform", "--call",
                           "transform(rows=1000)")
    assert code == 0, result["error"]
    assert result["first_line"] == line(result, "@profile")["line"]  # decorators included
    assert line(result, "matrix = make_matrix(")["increment_mib"] > 2  # 1000 x 500 floats


def test_function_that_never_runs_is_reported():
    code, result = run_cli(f"{LIBRARY}::explode", "--call", "load_data(10)")
    assert code == 2 and result["status"] == "not_found"
    assert "never ran" in result["error"]["message"]


def test_usage_errors_exit_2():
    import subprocess

    from profiler_helpers import MEMLENS

    proc = subprocess.run([str(MEMLENS), "profile", "no-separator.py"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "FILE::QUALNAME" in proc.stderr
    proc = subprocess.run([str(MEMLENS), "profile", "x.py::f", "--bogus"], capture_output=True,
                          text=True)
    assert proc.returncode == 2


def test_generator_and_coroutine_lines_span_every_resume():
    gen = str(FIXTURES / "generators.py")
    code, result = run_cli(f"{gen}::chunks", "--call", "main()")
    assert code == 0, result["error"]
    assert result["calls"] == 6  # first call + 5 resumes
    assert line(result, "yield len(block)")["occurrences"] == 5
    code, result = run_cli(f"{gen}::fetch", "--call", "main()")
    assert code == 0, result["error"]
    appended = line(result, "data.append(")
    assert appended["occurrences"] == 4 and appended["increment_mib"] > 3.5  # 4 x 1 MiB kept


def test_exception_handled_by_the_caller_is_noted_but_ok():
    code, result = run_cli(f"{LIBRARY}::explode", "--call", "tolerant()")
    assert code == 0 and result["status"] == "ok" and result["error"] is None
    assert result["handled_exception"]["type"] == "ValueError"
    assert line(result, "raise ValueError")["occurrences"] == 1


def test_call_entry_profiles_a_file_without_the_py_suffix(tmp_path):
    # a script named like a command (`bin/train`): importlib finds no loader by its suffix
    script = tmp_path / "train"
    script.write_text("def fit(n):\n    rows = [[0.0] * 100 for _ in range(n)]\n"
                      "    return len(rows)\n")
    code, result = run_cli(f"{script}::fit", "--call", "fit(20000)")
    assert code == 0, result["error"]
    assert result["entry"] == "call" and result["status"] == "ok"
    assert line(result, "rows = [[0.0] * 100")["occurrences"] == 1
