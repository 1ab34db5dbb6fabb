"""--fix writes into the file itself (issue 17, items 15 and 16): links, owner and mode stay; a
read-only file, or one saved meanwhile, is left alone and said so."""

from __future__ import annotations

import os

import pytest
from cli_helpers import run, write

from memlens.engine import Engine
from memlens.engine.batch import CHANGED, FIX, Task, process
from memlens.engine.resolver import Overrides, Resolver

SOURCE = "leaky_helper(1)\n"
FIXED = "tidy_helper(1)\n"


def test_a_symlinked_file_stays_a_link_and_its_target_is_fixed(rules_project):
    target = rules_project / "real" / "a.py"
    write(rules_project, {"real/a.py": SOURCE})
    link = rules_project / "link.py"
    link.symlink_to(target)
    r = run("check", "--no-cache", "--fix", "link.py", cwd=rules_project)
    assert "Fixed 1 finding." in r.stdout, r.stdout + r.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == FIXED


def test_hard_links_stay_one_file(rules_project, tmp_path_factory):
    write(rules_project, {"a.py": SOURCE})
    other = tmp_path_factory.mktemp("elsewhere") / "b.py"
    os.link(rules_project / "a.py", other)
    run("check", "--no-cache", "--fix", "a.py", cwd=rules_project)
    assert os.path.samefile(rules_project / "a.py", other)
    assert other.read_text() == FIXED


def test_mode_and_owner_stay(rules_project):
    path = write(rules_project, {"a.py": SOURCE}) / "a.py"
    path.chmod(0o640)
    owner = None
    if os.geteuid() == 0:  # as root over another user's checkout: the file stays theirs
        os.chown(path, 12345, 12346)
        owner = (12345, 12346)
    run("check", "--no-cache", "--fix", "a.py", cwd=rules_project)
    st = path.stat()
    assert path.read_text() == FIXED
    assert st.st_mode & 0o7777 == 0o640
    if owner is not None:
        assert (st.st_uid, st.st_gid) == owner


def test_a_read_only_file_is_left_alone_and_said_so(rules_project):
    write(rules_project, {"a.py": SOURCE, "b.py": SOURCE})
    (rules_project / "a.py").chmod(0o444)
    r = run("check", "--no-cache", "--fix", cwd=rules_project)
    assert (rules_project / "a.py").read_text() == SOURCE
    assert (rules_project / "b.py").read_text() == FIXED
    assert r.stderr.splitlines() == ["memlens check: warning: a.py: read-only; not fixed"]
    assert "Fixed 1 finding." in r.stdout and "a.py:1:1: XT001 [*]" in r.stdout
    assert r.returncode == 1


@pytest.mark.parametrize("how", ["in place", "renamed over"])
def test_a_file_saved_while_it_was_fixed_is_left_alone(rules_project, how, monkeypatch):
    # (in process: the fix is given the time an editor's save takes to come in between)
    path = write(rules_project, {"a.py": SOURCE}) / "a.py"
    engine = Engine(Resolver(Overrides()).for_path(path))  # the project's rules, as the CLI's
    saved = "leaky_helper(2)\n"  # the same size; written in place, with the same mtime
    real_fix = engine.fix_source

    def fix_while_the_editor_saves(text, name, unsafe=False, **given):
        result = real_fix(text, name, unsafe=unsafe, **given)
        if how == "in place":
            path.write_text(saved)  # only the content hash tells
            os.utime(path, ns=(path.stat().st_atime_ns, read_mtime))
        else:
            (rules_project / "a.py.tmp").write_text(saved)
            os.replace(rules_project / "a.py.tmp", path)
        return result

    read_mtime = path.stat().st_mtime_ns
    monkeypatch.setattr(engine, "fix_source", fix_while_the_editor_saves)
    result = process(engine, Task(str(path)), FIX)
    assert path.read_text() == saved
    assert result.notice == CHANGED and result.fixed == [] and result.digest is None
