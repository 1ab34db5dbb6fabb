"""The built-in rules compiled once per install (`engine/rulecache.py`): stored by the first
process, loaded by the next, with the same findings; a torn, foreign or stale file is never
loaded, and nothing breaks without a cache folder."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

from memlens.engine import rulecache
from memlens.engine.rulebook import builtin_rule_dir

TEXT = (
    "import numpy as np\nimport joblib\n\nMODEL = joblib.load('m.pkl')\n\n"
    "def predict(x):\n    return MODEL.predict(x)\n\n"
    "def rows(path):\n    data = np.load(path)\n    for i in range(0, len(data), 256):\n"
    "        yield data[i:i + 256]\n"
)
PROBE = (
    "import json, sys\n"
    "from memlens.engine import Engine, Settings, rulecache\n"
    "findings = Engine(Settings(select=('ALL',))).check_source(sys.argv[1], 'm.py')\n"
    "print(json.dumps({'outcome': rulecache.outcome,\n"
    "                  'findings': [f.to_dict() for f in findings]}))\n"
)


def _run(cache: str) -> dict:
    env = dict(os.environ, MEMLENS_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", PROBE, TEXT], env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def test_stored_once_then_loaded_with_the_same_findings(tmp_path: Path):
    cache = str(tmp_path / "cache")
    first, second = _run(cache), _run(cache)
    assert (first["outcome"], second["outcome"]) == ("derived and stored", "loaded")
    assert first["findings"] == second["findings"] == _run("")["findings"]
    assert {f["code"] for f in first["findings"]} >= {"ML101", "ML102"}
    (stored,) = (tmp_path / "cache").glob("rules-*.pickle")
    assert stored.stat().st_mode & 0o077 == 0
    assert (tmp_path / "cache").stat().st_mode & 0o077 == 0


def test_a_torn_or_foreign_file_is_not_loaded(tmp_path: Path):
    cache = tmp_path / "cache"
    _run(str(cache))
    (stored,) = cache.glob("rules-*.pickle")
    key, rules = pickle.loads(stored.read_bytes())
    stored.write_bytes(pickle.dumps(("another install's key", rules)))  # a CRC collision
    assert _run(str(cache))["outcome"] == "derived and stored"
    stored.write_bytes(stored.read_bytes()[:1000])  # torn
    assert _run(str(cache))["outcome"] == "derived and stored"
    stored.chmod(0o666)  # anyone could have written it: a pickle is code
    assert _run(str(cache))["outcome"] == "derived and stored"
    assert stored.stat().st_mode & 0o077 == 0  # replaced by a private one
    cache.chmod(0o777)  # nor from a folder others can write to
    assert _run(str(cache))["outcome"] == "derived"
    cache.chmod(0o700)
    assert _run(str(cache))["outcome"] == "loaded"


def test_no_cache_folder(tmp_path: Path):
    assert _run("")["outcome"] == "derived"
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert _run(str(blocked / "cache"))["outcome"] == "derived"


def test_the_key_changes_with_the_rule_files(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MEMLENS_CACHE_DIR", str(tmp_path))
    rules = tmp_path / "rules"
    shutil.copytree(builtin_rule_dir(), rules)
    monkeypatch.setattr(rulecache, "builtin_rule_dir", lambda: rules)
    before = rulecache.cache_file()
    edited = rules / "ML101.yml"
    edited.write_text(edited.read_text().replace("message:", "message: (edited)", 1))
    after_edit = rulecache.cache_file()
    assert after_edit != before
    (rules / "utils" / "extra.yml").write_text("id: extra\nrule: {kind: call}\n")
    assert rulecache.cache_file() not in (before, after_edit)


def test_other_installs_files_are_kept_up_to_a_few(tmp_path: Path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    for n in range(6):  # other environments' rules, older first
        old = cache / f"rules-{n:08x}.pickle"
        old.write_bytes(b"x")
        os.utime(old, (1_000_000 + n, 1_000_000 + n))
    _run(str(cache))
    kept = sorted(p.name for p in cache.glob("rules-*.pickle"))
    assert len(kept) == rulecache.KEEP
    assert {"rules-00000004.pickle", "rules-00000005.pickle"} < set(kept)
