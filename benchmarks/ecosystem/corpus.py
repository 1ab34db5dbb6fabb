"""The ecosystem corpus: pinned releases from PyPI, downloaded once and unpacked into a cache.

    .venv/bin/python benchmarks/ecosystem/corpus.py          # fetch what is missing, list it

`projects.toml` pins each release by file name, URL and sha256. A download whose hash differs
is refused. Only Python sources (`.py`) and notebooks (`.ipynb`) are unpacked: that is what
memlens reads, and it keeps the cache small. The cache lives in `benchmarks/ecosystem/cache/`
(gitignored), or wherever `MEMLENS_ECOSYSTEM_CACHE` points.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import sys
import tarfile
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
PROJECTS = HERE / "projects.toml"
KEPT_SUFFIXES = (".py", ".ipynb")

@dataclass(frozen=True)
class Project:
    name: str
    version: str
    file: str
    url: str
    sha256: str
    kind: str  # library | application | tutorial (what code it mostly holds)
    why: str

    @property
    def key(self) -> str:
        """How findings and labels name it."""
        return self.name

def cache_dir() -> Path:
    return Path(os.environ.get("MEMLENS_ECOSYSTEM_CACHE") or HERE / "cache")

def load_projects(path: Path = PROJECTS) -> list[Project]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    projects = [Project(**entry) for entry in data["project"]]
    names = [p.name for p in projects]
    if len(set(names)) != len(names):
        raise SystemExit(f"{path}: a project is listed twice")
    return projects

def source_dir(project: Project) -> Path:
    return cache_dir() / "src" / f"{project.name}-{project.version}"

def fetch(project: Project) -> Path:
    """The unpacked sources of `project`, downloaded and checked first if they are missing."""
    target = source_dir(project)
    marker = target / ".complete"
    if marker.exists():
        return target
    archive = cache_dir() / "archives" / project.file
    if not archive.exists() or _sha256(archive.read_bytes()) != project.sha256:
        archive.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(project.url, timeout=120) as response:
            data = response.read()
        digest = _sha256(data)
        if digest != project.sha256:
            raise SystemExit(f"{project.file}: sha256 {digest} is not the pinned {project.sha256}")
        partial = archive.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(archive)
    _unpack(archive, target)
    marker.write_text(project.sha256 + "\n", encoding="utf-8")
    return target

def fetch_all(projects: list[Project], jobs: int = 8) -> dict[str, Path]:
    with ThreadPoolExecutor(jobs) as pool:
        return dict(zip([p.name for p in projects], pool.map(fetch, projects), strict=True))

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

def _unpack(archive: Path, target: Path) -> None:
    """The kept files of an sdist (.tar.gz) or a wheel (.whl), without the sdist's top folder.
    Member names that would leave `target` are skipped."""
    import shutil

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name, data in _members(archive):
        if not name.endswith(KEPT_SUFFIXES):
            continue
        relative = posixpath.normpath(name)
        if relative.startswith(("/", "..")) or relative == ".":
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)

def _members(archive: Path):
    if archive.name.endswith(".whl") or archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if not info.is_dir():
                    yield info.filename, z.read(info)
        return
    with tarfile.open(archive, "r:*") as t:
        for member in t.getmembers():
            if not member.isfile():
                continue
            name = member.name.split("/", 1)[1] if "/" in member.name else member.name
            handle = t.extractfile(member)
            if handle is not None:
                yield name, handle.read()

def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if p.is_file())

def main() -> int:
    projects = load_projects()
    folders = fetch_all(projects)
    total = 0
    for project in projects:
        count = len(python_files(folders[project.name]))
        total += count
        print(f"{project.name:24} {project.version:12} {project.kind:12} {count:5} .py files")
    print(f"{len(projects)} projects, {total} .py files, in {cache_dir()}")
    return 0

if __name__ == "__main__":
    sys.exit(main())

