"""The user-code corpus: public repositories pinned by commit, read from local git snapshots.

These machines reach only package registries, so the code is never downloaded here: give a
folder of snapshots (`--mirrors`, one `<owner>+<name>` folder per repository, holding a git
directory, as the search tool's fetch leaves them) and each project is exported at its pinned
commit into the cache, blob by blob (snapshots lack big files; a missing blob is skipped).

Notebooks are read with memlens' own reader (`memlens.notebook`): code cells joined into one
module, IPython syntax blanked, each line traced back to its cell.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "server"))

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PROJECTS = HERE / "projects.toml"
CACHE = HERE / "cache"
DEFAULT_MIRRORS = Path("/work/.mirror")
# what is exported: code, notebooks, and the small files that say how code is run
KEEP_SUFFIXES = (".py", ".ipynb")
MAX_BLOB = 4 * 1024 * 1024
KINDS = ("notebook", "application", "script", "library")


@dataclass(frozen=True)
class Project:
    name: str
    repo: str  # owner/name on GitHub
    commit: str
    kind: str  # what the code mostly is: notebook, application, script or library
    why: str = ""
    exclude: tuple[str, ...] = ()  # path prefixes left out (vendored code, generated code)

    @property
    def stamp(self) -> str:
        """What an export depends on: the commit and what is left out."""
        return " ".join([self.commit, *self.exclude])

    @property
    def mirror_name(self) -> str:
        return self.repo.replace("/", "+")


def load_projects(path: Path = PROJECTS) -> list[Project]:
    data = tomllib.loads(path.read_text())
    out = []
    for entry in data.get("project", []):
        kind = entry["kind"]
        if kind not in KINDS:
            raise SystemExit(f"{path}: project {entry['name']}: kind {kind!r} not in {KINDS}")
        out.append(Project(name=entry["name"], repo=entry["repo"], commit=entry["commit"],
                           kind=kind, why=entry.get("why", ""),
                           exclude=tuple(entry.get("exclude", ()))))
    return out


def git_dir(mirrors: Path, project: Project) -> Path:
    base = mirrors / project.mirror_name
    for candidate in (base / "repo" / ".git", base / "repo", base / ".git", base):
        if (candidate / "objects").is_dir():
            return candidate
    raise SystemExit(f"no snapshot of {project.repo} under {mirrors} (fetch github:{project.repo})")


def export(project: Project, mirrors: Path = DEFAULT_MIRRORS, cache: Path = CACHE) -> Path:
    """The project's code at its commit, in `cache/<name>`; exported once per commit."""
    dest = cache / project.name
    stamp = dest / ".memlens-corpus-commit"
    if stamp.exists() and stamp.read_text().strip() == project.stamp:
        return dest
    gd = git_dir(mirrors, project)
    listing = subprocess.run(
        ["git", "--git-dir", str(gd), "ls-tree", "-r", "-l", "-z", project.commit],
        check=True, capture_output=True).stdout.decode("utf-8", "surrogateescape")
    wanted = []
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, path = entry.split("\t", 1)
        mode, kind, obj, size = meta.split()
        if kind != "blob" or mode == "120000" or not path.endswith(KEEP_SUFFIXES):
            continue
        if any(path.startswith(p) for p in project.exclude) or not size.isdigit():
            continue  # excluded, or its blob is missing from the snapshot ("BAD")
        if int(size) > MAX_BLOB:
            continue
        wanted.append((obj, path))
    if dest.exists():
        subprocess.run(["rm", "-rf", str(dest)], check=True)
    dest.mkdir(parents=True)
    batch = subprocess.Popen(["git", "--git-dir", str(gd), "cat-file", "--batch"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert batch.stdin and batch.stdout
    for obj, path in wanted:
        batch.stdin.write(obj.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)  # the newline after the object
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    batch.stdin.close()
    batch.wait()
    stamp.write_text(project.stamp + "\n")
    return dest


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="export the user-code corpus into the cache")
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--projects", type=Path, default=PROJECTS)
    parser.add_argument("names", nargs="*", help="projects to export (default: all)")
    args = parser.parse_args(argv)
    for project in load_projects(args.projects):
        if args.names and project.name not in args.names:
            continue
        dest = export(project, args.mirrors, args.cache)
        print(f"{project.name}: {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
