"""The server's own trust boundary: what code it may run, and from where.

Profiling runs the workspace's code. The server does not rely on the editor for that:
- only files inside the workspace folders may be profiled, and the profiled code's working
  folder must be inside them too, both after resolving `..` and symlinks;
- a client that knows workspace trust (VS Code) says so in `initializationOptions.
  workspaceTrusted` and in a `memlens/workspaceTrust` notification when it changes. An
  untrusted workspace gets no profiling and none of its own rule folders (`rule-dirs`).
  The flag is read from the initialization options' top level only, never from the settings
  a workspace can write;
- a client without a trust concept (Neovim) keeps profiling on explicit commands, confined to
  the workspace folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

TRUST_NOTIFICATION = "memlens/workspaceTrust"


@dataclass
class Boundary:
    folders: list[str] = field(default_factory=list)  # resolved workspace folders
    trusted: bool | None = None  # None: the client has no trust concept

    def set_folders(self, paths) -> None:
        self.folders = [os.path.realpath(p) for p in paths if p]

    def inside(self, path: str) -> bool:
        """Whether `path`, with `..` and symlinks resolved, lies in a workspace folder."""
        real = os.path.realpath(path)
        return any(real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)
                   for folder in self.folders)

    def refuse_profile(self, path: str, cwd: str) -> tuple[str, str] | None:
        """Why profiling `path` in `cwd` is refused, as (kind, message); None when allowed."""
        if self.trusted is False:
            return ("Untrusted", "profiling is disabled: this workspace is not trusted, and "
                                 "profiling runs its code (trust the workspace to profile)")
        if not self.folders:
            return ("OutsideWorkspace", "profiling needs a workspace folder: open the folder "
                                        "that holds the file")
        if not self.inside(path):
            return ("OutsideWorkspace", f"{path} is outside the workspace folders: only their "
                                        "files can be profiled")
        if not self.inside(cwd):
            return ("OutsideWorkspace", f"the working folder {cwd} is outside the workspace "
                                        "folders")
        return None


def trust_from(initialization_options) -> bool | None:
    """`workspaceTrusted` at the top level of the initialization options (a bool), else None."""
    if isinstance(initialization_options, dict):
        value = initialization_options.get("workspaceTrusted")
        if isinstance(value, bool):
            return value
    return None
