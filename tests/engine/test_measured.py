"""engine/measured.py and engine/measure_store.py on real profile runs: a finding on a line
measured big is a warning, on one measured small a hint, on one that never ran unchanged; the
measurement holds only while the function's text does (shifted, CRLF: yes; edited: stale)."""

from __future__ import annotations

import json
import os

import pytest

from memlens.engine import Engine, Finding, Position, Settings, measured
from memlens.engine.measure_store import MAX_PER_FILE, MeasureStore
from memlens.profiler.result import ProfileResult, function_hash

np = pytest.importorskip("numpy")

WORK = """\
import numpy as np


def work(flag=False):
    big = np.ones((2048, 2048))
    small = np.zeros(16)
    if flag:
        never = np.ones((2048, 2048))
    return big, small
"""
BIG, SMALL, NEVER, DEF = 4, 5, 7, 3  # 0-based lines


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One real profile run of `work` (32 MiB on BIG, next to nothing on SMALL)."""
    from memlens.profiler import profile

    folder = tmp_path_factory.mktemp("measured")
    path = folder / "work.py"
    path.write_text(WORK)
    result = profile(str(path), "work", call="work()", timeout=60)
    assert result.status.value == "ok", result.error
    return path, result


def finding(line: int, severity="hint", evidence="pattern", code="ML999") -> Finding:
    return Finding(code, "a pattern", severity, "work.py", Position(line, 4), Position(line, 9),
                   evidence=evidence)


def apply(result, findings, text=WORK, threshold=16.0):
    return measured.apply(findings, [result], lambda cell: text, threshold)


def test_the_profile_json_carries_the_function_hash_and_start(run):
    path, result = run
    data = json.loads(json.dumps(result.to_json()))
    lines = WORK.splitlines()[DEF:DEF + 6]
    assert data["function_hash"] == function_hash(lines) == result.function_hash
    assert isinstance(data["started_at"], float) and data["file"] == str(path)
    again = ProfileResult.from_json(data)
    assert again.function_hash == result.function_hash
    assert again.started_at == result.started_at


def test_a_hint_on_a_line_measured_big_is_a_warning(run):
    _, result = run
    done = apply(result, [finding(BIG)])
    (f,) = done.findings
    assert f.severity == "warning" and f.evidence == "measured"
    increment = next(r.increment_mib for r in result.lines if r.line == BIG + 1)
    assert 31.0 <= increment <= 36.0
    assert f.message == f"a pattern (measured {measured.format_mib(increment)} here)"
    assert f.data["measured"]["qualname"] == "work"
    assert f.data["measured"]["started_at"] == result.started_at
    assert done.applied == [result] and done.stale == []


def test_a_warning_on_a_line_measured_small_drops_to_a_hint(run):
    _, result = run
    (f,) = apply(result, [finding(SMALL, "warning", "code")]).findings
    assert f.severity == "hint" and f.evidence == "measured"
    assert f.message.startswith("a pattern (measured +") and f.message.endswith(" MiB here)")


def test_the_threshold_decides(run):
    _, result = run
    (f,) = apply(result, [finding(BIG)], threshold=1024.0).findings
    assert f.severity == "hint" and f.evidence == "measured"  # 32 MiB is under 1 GiB


def test_lines_that_did_not_run_and_other_codes_change_nothing(run):
    _, result = run
    untouched = [finding(NEVER), finding(NEVER, "warning", "file size"),
                 finding(BIG, "error", "code", code="syntax-error")]
    assert apply(result, untouched).findings == untouched
    assert [f.evidence for f in apply(result, untouched).findings] == \
        ["pattern", "file size", "code"]


def test_it_follows_the_function_when_lines_above_change_and_hashes_crlf_alike(run):
    _, result = run
    shifted = WORK.replace("import numpy as np\n", "import numpy as np\n# one\n# two\n")
    (f,) = apply(result, [finding(BIG + 2)], text=shifted).findings
    assert f.severity == "warning"
    (f,) = apply(result, [finding(BIG)], text=WORK.replace("\n", "\r\n")).findings
    assert f.severity == "warning"


def test_an_edited_function_makes_the_measurement_stale(run):
    _, result = run
    edited = WORK.replace("np.zeros(16)", "np.zeros(32)")
    findings = [finding(BIG), finding(SMALL, "warning", "code")]
    done = apply(result, findings, text=edited)
    assert done.findings == findings and done.stale == [result] and done.applied == []
    assert measured.offset_in(result, edited.splitlines()) is None


def test_a_real_engine_hint_is_confirmed(tmp_path):
    """ML102 on np.load of a path the code does not show: a hint, until measured."""
    from memlens.profiler import profile

    np.save(tmp_path / "data.npy", np.ones((2048, 2048)))
    source = ("import numpy as np\n\n\ndef build(path='data.npy'):\n    x = np.load(path)\n"
              "    for i in range(0, len(x), 256):\n        part = x[i:i + 256]\n    return x\n")
    (tmp_path / "build.py").write_text(source)
    found = Engine(Settings()).check_source(source, str(tmp_path / "build.py"))
    ml102 = [f for f in found if f.code == "ML102"]
    assert [(f.severity, f.evidence) for f in ml102] == [("hint", "pattern")]
    result = profile(str(tmp_path / "build.py"), "build", call="build()", cwd=str(tmp_path),
                     timeout=60)
    done = measured.apply(found, [result], lambda cell: source, 16.0)
    (f,) = [f for f in done.findings if f.code == "ML102"]
    assert (f.severity, f.evidence) == ("warning", "measured")
    assert "evidence: measured +" in measured.evidence_line(f)
    assert " MiB on this line by a profile run of `build` at " in measured.evidence_line(f)


def test_evidence_lines():
    assert measured.evidence_line(finding(1)) == "evidence: pattern (size unknown)"
    assert measured.evidence_line(finding(1, evidence="file size")) == "evidence: file size"
    assert measured.evidence_line(finding(1, evidence="notebook output")) == \
        "evidence: notebook output"
    stale = ProfileResult("work.py", "work", started_at=0.0)
    assert measured.evidence_line(finding(1), stale).startswith(
        "evidence: pattern (size unknown); the profile run of `work` at ")


def test_load_reads_one_result_or_a_list_and_refuses_anything_else(run, tmp_path):
    _, result = run
    one, many = tmp_path / "one.json", tmp_path / "many.json"
    one.write_text(json.dumps(result.to_json()))
    many.write_text(json.dumps([result.to_json(), result.to_json()]))
    assert [r.function_hash for r in measured.load(str(one))] == [result.function_hash]
    assert len(measured.load(str(many))) == 2
    cases = {"missing.json": None, "text.json": "not json", "object.json": '{"a": 1}',
             "list.json": '[{"qualname": "f", "lines": []}, 3]',
             "nofile.json": '{"qualname": "f", "lines": [], "file": null}'}
    for name, content in cases.items():
        if content is not None:
            (tmp_path / name).write_text(content)
        with pytest.raises(measured.MeasurementError) as err:
            measured.load(str(tmp_path / name))
        assert "\n" not in str(err.value) and name in str(err.value)


def test_the_store_keeps_results_by_function_text_bounded_and_atomically(run, tmp_path):
    path, result = run
    store = MeasureStore(tmp_path / "cache")
    assert store.results_for(str(path)) == []
    assert store.put(result)
    kept = MeasureStore(tmp_path / "cache").results_for(str(path))  # a new process reads it
    assert [r.function_hash for r in kept] == [result.function_hash]
    assert kept[0].output == "" and kept[0].started_at == result.started_at
    # more runs than a file keeps: the newest stay
    for n in range(MAX_PER_FILE + 5):
        other = ProfileResult.from_json(result.to_json())
        other.lines[0].source = f"def work(flag={n}):"  # another function text
        other.started_at = result.started_at + 1 + n
        store.put(other)
    kept = store.results_for(str(path))
    assert len(kept) == MAX_PER_FILE
    assert kept[0].started_at == result.started_at + MAX_PER_FILE + 5
    assert result.function_hash not in {r.function_hash for r in kept}  # the oldest went
    assert not [p for p in os.listdir(tmp_path / "cache") if p.endswith(".tmp")]
    store.forget(str(path), "work")
    assert MeasureStore(tmp_path / "cache").results_for(str(path)) == []


def test_a_broken_or_foreign_store_is_ignored(run, tmp_path):
    path, result = run
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    (folder / "measurements.json").write_text("{not json")
    assert MeasureStore(folder).results_for(str(path)) == []
    assert MeasureStore(folder).put(result)  # written over
    assert len(MeasureStore(folder).results_for(str(path))) == 1
    data = json.loads((folder / "measurements.json").read_text())
    data["files"][os.path.realpath(path)] = {"x@y": 3, "z@w": {"lines": "bad"}}
    (folder / "measurements.json").write_text(json.dumps(data))
    assert MeasureStore(folder).results_for(str(path)) == []
    os.chmod(folder, 0o777)  # others may write there: nothing read from it, nothing written
    try:
        assert MeasureStore(folder).results_for(str(path)) == []
        assert not MeasureStore(folder).put(result)
    finally:
        os.chmod(folder, 0o700)
