"""Profile results per document, and where they belong in the document's current text.

A result is kept with the source lines the profiler measured (its `lines[*].source`). It is shown
only where the function named by its qualname now holds exactly those lines: lines inserted or
deleted above the function shift it; an edit of the function's own lines makes it stale (hidden,
and the lens says so) until the function's text is the measured text again. A result is never
shown on the wrong line.

Results are also kept on disk (`engine/measure_store.py`), by the function's content hash: a
file opened after a restart gets them back (`restore`).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from memlens.lines import split_lines
from memlens.lsp.functions import Function
from memlens.profiler.result import ProfileResult

_stamps = itertools.count(1)


@dataclass
class Record:
    uri: str
    qualname: str
    result: ProfileResult
    first_line: int  # 1-based, as measured
    sources: list[str]
    version: object
    stamp: int
    stale: bool = False  # the function's text is not the text measured


@dataclass(frozen=True)
class Placed:
    record: Record
    offset: int  # add to a measured 1-based line number to get the current 1-based line

    def current(self, line: int) -> int:
        """The current 0-based line of a measured 1-based line."""
        return line + self.offset - 1

    @property
    def result(self) -> ProfileResult:
        return self.record.result


class ProfileStore:
    def __init__(self):
        self.records: dict[str, dict[str, Record]] = {}
        self._placed: dict[str, tuple[object, int, list[Placed]]] = {}
        self.lock = threading.Lock()
        self.running: dict[str, threading.Event] = {}  # run id -> cancel event

    def has(self, uri: str) -> bool:
        return bool(self.records.get(uri))

    def stamp(self, uri: str) -> int:
        return max((r.stamp for r in self.records.get(uri, {}).values()), default=0) + \
            len(self.records.get(uri, {}))

    def put(self, uri: str, qualname: str, result: ProfileResult, version) -> Record | None:
        rows, first = result.lines, result.first_line
        if not rows or not first or not any(r.increment_mib is not None for r in rows):
            return None
        record = Record(uri, qualname, result, int(first), [r.source for r in rows], version,
                        next(_stamps))
        self.records.setdefault(uri, {})[qualname] = record
        self._placed.pop(uri, None)
        return record

    def restore(self, uri: str, results: list[ProfileResult]) -> int:
        """Results kept from an earlier session (newest first), for functions that have no
        result in this one: the newest per qualname."""
        count = 0
        for result in results:
            qualname = result.qualname
            if qualname and qualname not in self.records.get(uri, {}):
                result.uri = uri
                if self.put(uri, qualname, result, None) is not None:
                    count += 1
        return count

    def stale(self, uri: str) -> dict[str, Record]:
        """The results of `uri` whose function has changed since (after `placed`)."""
        return {q: r for q, r in self.records.get(uri, {}).items() if r.stale}

    def clear(self, uri: str | None = None, qualname: str | None = None) -> int:
        if uri is None:
            count = sum(len(v) for v in self.records.values())
            self.records.clear()
            self._placed.clear()
            return count
        records = self.records.get(uri, {})
        if qualname is None:
            count = len(records)
            self.records.pop(uri, None)
        else:
            count = 1 if records.pop(qualname, None) else 0
        self._placed.pop(uri, None)
        return count

    def placed(self, uri: str, version, text: str, functions: list[Function]) -> list[Placed]:
        """The results of `uri` that still match its text, each with its line offset."""
        records = self.records.get(uri)
        if not records:
            return []
        stamp = self.stamp(uri)
        hit = self._placed.get(uri)
        if hit is not None and hit[0] == version and hit[1] == stamp:
            return hit[2]
        lines = split_lines(text)
        by_name = {f.qualname: f for f in functions}
        out: list[Placed] = []
        for qualname, record in list(records.items()):
            fn = by_name.get(qualname)
            if fn is None:
                continue  # renamed or unparsable right now: hidden, not lost
            start = fn.first_line
            current = lines[start:start + len(record.sources)]
            found = start if current == record.sources else \
                self._search(lines, record.sources, fn)
            record.stale = found is None
            if found is None:
                continue  # its own lines changed: the measurement no longer applies
            out.append(Placed(record, found + 1 - record.first_line))
        self._placed[uri] = (version, self.stamp(uri), out)
        return out

    @staticmethod
    def _search(lines: list[str], sources: list[str], fn: Function) -> int | None:
        # The profiler counts the first decorator line; the scan may start elsewhere when a
        # comment sits between decorators. Accept the measured block where `def` now stands.
        n = len(sources)
        for start in range(max(fn.first_line - 3, 0), fn.def_line + 1):
            if lines[start:start + n] == sources:
                return start
        return None

    def cancel_all(self) -> None:
        for event in list(self.running.values()):
            event.set()
