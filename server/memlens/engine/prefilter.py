"""The text prefilter: which rules could match a file, decided from its text before any parse.

Parsing is most of what a check costs, and most files of a large tree cannot match most rules.
Each rule therefore gets a *condition* on the text that every file it matches meets (a
necessary condition, never a sufficient one): a file none of whose rules' conditions hold is not
parsed, and a parsed file runs only the rules whose conditions hold.

A condition is derived from the rule itself (`derive`), and a rule may add regexes in
`metadata.prefilter` for what its patterns cannot say in words (a module-level `X = []`, a
list comprehension right after `sum(`). Atoms, cheapest first:
- a **word**: an identifier or keyword that must occur as a whole word (`numpy`, `load`, `for`).
  Every name and keyword of a pattern occurs in the text of what it matches, and a canonical
  name such as `numpy.load` occurs word by word in the import that binds it, whatever the alias.
  Words are looked up in the set of the file's words, built once per file.
- an **operator** (`+=`, `@`): a substring.
- a **regex** from `metadata.prefilter`, searched in the text.
`all`, `has`, `inside`, `follows`, `precedes` and constraints on captured metavariables add
their conditions; an `any` needs one of its branches'; `not`, `nthChild`, `range`, `stopBy` and
anything unknown add none (true), which only ever widens the filter.

Regexes in `metadata.prefilter` are a list, all required; an item `{any: [...]}` needs one of
its items, and `{same: [A, B]}` needs a value captured by A's first group that B's captures too
(A and B: a regex or `{any: [...]}` of them; B is searched once per value, with its group
replaced by the value). `{regex: R, lines-with: LIT}` searches R only within the lines that
contain LIT. `{@name}` in a regex stands for `name` or any alias the file imports it
under (`from numpy import append as ap`), so a regex can spell a canonical function by its last
name.
Python's `re` scans fast only from a literal, so two shapes are searched in a faster but
equivalent way: a regex that starts with `(?m)^` is searched as a newline followed by the rest
(plus a match at the start of the file), and one that starts with `\\b(?:w1|w2|...)` (whole
words; `(?<![\\w.])(?:w1|...)`: whole words not after a dot) is searched one word at a time,
only for the words the file contains. Any other regex whose matches all start with one of a
few literals (`\\b(?:predict\\w*|Pool)\\(`, read from the regex by `regex_literals.py`) is
tried only where one of them occurs; else, when each match contains one of a few literals, a
file without any of them is not searched. A regex that several rules write alike is searched
once per file.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from typing import Any

from memlens.engine import regex_literals
from memlens.engine.blocks import Layout, multiline_strings
from memlens.engine.imports import star_aliases
from memlens.engine.locality import may_reach
from memlens.engine.ruletree import Node

# --- a file's text, with what the conditions ask of it computed once ------------------------

# Bytes that can be part of a Python identifier (ASCII letters, digits, `_`, and every byte of a
# non-ASCII character): everything else separates words.
_WORD_BYTES = bytes(b if (b"0"[0] <= b <= b"9"[0] or b"A"[0] <= b <= b"Z"[0]
                          or b"a"[0] <= b <= b"z"[0] or b == b"_"[0] or b >= 0x80) else 0x20
                    for b in range(256))


class FileText:
    """One file's text and its words (every word, in strings and comments too, as UTF-8 bytes:
    every condition asks for some); regex and substring results are remembered, as several rules
    ask the same."""

    __slots__ = ("text", "words", "_seen", "_aliases", "_layout", "_bodies", "_strings")

    def __init__(self, text: str):
        self.text = text
        self.words: set[bytes] = set(
            text.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).split())
        # a canonical module's name is in the text of the import that binds it, except for
        # the aliases a star import hands over (`from .common import *`, then `np.load`)
        if b"*" in self.words or "import *" in text or "import*" in text:
            self.words.update(m.encode() for m in star_aliases(text).values())
        self._seen: dict = {}
        self._aliases: dict[str, tuple[str, ...]] = {}
        self._layout: Layout | None = None
        self._bodies: list[tuple[int, int]] | None = None
        self._strings: list[tuple[int, int]] | None = None

    def layout(self) -> Layout:
        """Its `def`/`class` blocks, found from the text (`blocks.py`)."""
        if self._layout is None:
            self._layout = Layout(self.text)
        return self._layout

    def multiline_strings(self) -> list[tuple[int, int]]:
        """Where the strings that span lines are (`Layout.strings`, without the rest of the
        layout when it is not built yet)."""
        if self._layout is not None:
            return self._layout.strings
        if self._strings is None:
            self._strings = multiline_strings(self.text)
        return self._strings

    def function_bodies(self) -> list[tuple[int, int]]:
        """Where the functions known for certain are (`blocks.Layout.function_bodies`)."""
        if self._bodies is None:
            self._bodies = self.layout().function_bodies()
        return self._bodies

    def contains(self, fragment: str) -> bool:
        found = self._seen.get(fragment)
        if found is None:
            found = self._seen[fragment] = fragment in self.text
        return found

    def search(self, search: _Search) -> bool:
        found = self._seen.get(search)
        if found is None:
            found = self._seen[search] = search.found_in(self)
        return found

    def aliases(self, name: str) -> tuple[str, ...]:
        """Names an import binds `name` to (`... import name as alias`)."""
        found = self._aliases.get(name)
        if found is None:
            found = ()
            if name.encode() in self.words and b"as" in self.words:
                found = tuple(dict.fromkeys(re.findall(
                    re.escape(name) + r"[ \t\\\r\n]+as[ \t\\\r\n]+([A-Za-z_]\w*)", self.text)))
            self._aliases[name] = found
        return found


class BlockText:
    """A block of a file (a top-level definition, or a member of a top-level class), as block
    conditions see it: substrings and whole words found within its span (`words` is None:
    looking a few words up costs less than listing them all). Regexes from `metadata.prefilter`
    are about whole files: here they hold (block conditions are derived from the rule alone and
    have none)."""

    __slots__ = ("text", "start", "end")
    words = None

    def __init__(self, text: str, start: int, end: int):
        self.text, self.start, self.end = text, start, end

    def contains(self, fragment: str) -> bool:
        return self.text.find(fragment, self.start, self.end) >= 0

    def has_word(self, word: str) -> bool:
        """`word` as a whole word: no word character (ASCII letter, digit, `_`, or any
        non-ASCII character, as for `FileText.words`) right before or after it."""
        text, end, size = self.text, self.end, len(word)
        i = text.find(word, self.start, end)
        while i >= 0:
            before = text[i - 1] if i else " "
            after = text[i + size] if i + size < len(text) else " "
            if not _word_char(before) and not _word_char(after):
                return True
            i = text.find(word, i + 1, end)
        return False

    def search(self, search) -> bool:
        return True


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_" or c > "\x7f"


# --- conditions --------------------------------------------------------------------------------


class Condition:
    """Holds for every file the rule can match. `holds(FileText) -> bool` (a block condition:
    `holds(BlockText)`)."""

    cost = 1  # to order an `all`: cheap conditions first

    def holds(self, text: FileText | BlockText) -> bool:
        raise NotImplementedError


class _Words(Condition):
    """All of `words` (need_all) or one of them."""

    __slots__ = ("words", "need_all", "_names")
    cost = 0

    def __init__(self, words: Iterable[str], need_all: bool):
        self.words = frozenset(w.encode() for w in words)
        self.need_all = need_all
        self._names = tuple(sorted(w.decode() for w in self.words))

    def holds(self, text: FileText | BlockText) -> bool:
        if isinstance(text, BlockText):  # a few words are found faster than all of them listed
            has = text.has_word
            return (all if self.need_all else any)(has(w) for w in self._names)
        words = text.words
        if self.need_all:
            return self.words <= words
        return not self.words.isdisjoint(words)

    def __repr__(self):
        sep = " & " if self.need_all else " | "
        return "(" + sep.join(sorted(w.decode() for w in self.words)) + ")"


class _Atom(Condition):
    """One thing the text must hold."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Fragment(_Atom):
    """A substring (an operator such as `+=`)."""

    cost = 1

    def holds(self, text: FileText | BlockText) -> bool:
        return text.contains(self.value)

    def __repr__(self):
        return repr(self.value)


class _Combination(Condition):
    """All of its parts (`_All`) or one of them (`_Any`), cheapest first."""

    __slots__ = ("parts", "cost")
    name = ""

    def __init__(self, parts: list[Condition]):
        self.parts = sorted(parts, key=lambda c: c.cost)
        self.cost = max(c.cost for c in parts)

    def __repr__(self):
        return self.name + "(" + ", ".join(map(repr, self.parts)) + ")"


class _All(_Combination):
    name = "all"

    def holds(self, text: FileText | BlockText) -> bool:
        for part in self.parts:
            if not part.holds(text):
                return False
        return True


class _Any(_Combination):
    name = "any"

    def holds(self, text: FileText | BlockText) -> bool:
        for part in self.parts:
            if part.holds(text):
                return True
        return False


def all_of(parts: Iterable[Condition | None]) -> Condition | None:
    """The conjunction; None stands for "always true"."""
    flat: list[Condition] = []
    for part in parts:
        if part is None:
            continue
        flat += part.parts if isinstance(part, _All) else [part]
    words = {w for p in flat if isinstance(p, _Words) and (p.need_all or len(p.words) == 1)
             for w in p.words}
    rest = [p for p in flat if not (isinstance(p, _Words) and (p.need_all or len(p.words) == 1))]
    rest = list({repr(p): p for p in rest}.values())
    # an `any` one of whose branches is required anyway adds nothing
    required = {repr(p) for p in rest} | {repr(_Words([w.decode()], True)) for w in words}
    rest = [p for p in rest if not (isinstance(p, _Any) and any(
        repr(b) in required for b in p.parts) or isinstance(p, _Any) and isinstance(
        p.parts[0], _Words) and not p.parts[0].words.isdisjoint(words))]
    if words:
        rest.insert(0, _Words((w.decode() for w in words), need_all=True))
    if not rest:
        return None
    return rest[0] if len(rest) == 1 else _All(rest)


def any_of(parts: Iterable[Condition | None]) -> Condition | None:
    """The disjunction; one branch that is always true makes it always true."""
    flat: list[Condition] = []
    for part in parts:
        if part is None:
            return None
        flat += part.parts if isinstance(part, _Any) else [part]
    if not flat:
        return None
    words = {w for p in flat if isinstance(p, _Words) and (not p.need_all or len(p.words) == 1)
             for w in p.words}
    rest = [p for p in flat if not (isinstance(p, _Words)
                                    and (not p.need_all or len(p.words) == 1))]
    rest = list({repr(p): p for p in rest}.values())
    if words:
        rest.insert(0, _Words((w.decode() for w in words), need_all=False))
    return rest[0] if len(rest) == 1 else _Any(rest)


# --- regexes from metadata.prefilter --------------------------------------------------------

_ALIAS = re.compile(r"\{@([A-Za-z_]\w*(?:\|[A-Za-z_]\w*)*)\}")
# `\b(?:w1|w2)`, `\bword`, or `(?<![\w.])(?:w1|w2)` (a whole word, not after a dot)
_LEADING_WORDS = re.compile(
    r"^(\\b|\(\?<!\[\\w\.\]\))"
    r"(?:\(\?:([A-Za-z_]\w*(?:\|[A-Za-z_]\w*)*)\)|([A-Za-z_]\w*)(?![\w|]))")


def _with_aliases(source: str, aliases: dict[str, tuple[str, ...]]) -> str:
    """`source` with each `{@a|b}` also naming the aliases of a and b."""
    return _ALIAS.sub(lambda m: "{@" + "|".join(
        [*m.group(1).split("|"),
         *(a for n in m.group(1).split("|") for a in aliases.get(n, ()))]) + "}", source)


def _spelled(source: str) -> str:
    """`source` as a plain regex: each `{@a|b}` an alternation of its names."""
    return _ALIAS.sub(lambda m: "(?:" + m.group(1) + ")", source)


# Regexes built per file (a name or alias spelled in): names recur from file to file, so what is
# compiled is kept (re's own cache holds 512 entries).
_COMPILED: dict[tuple[str, bool], object] = {}


def _compiled(pattern: str, linear: bool = False):
    found = _COMPILED.get((pattern, linear))
    if found is None:
        if len(_COMPILED) > 2048:  # (each a compiled regex: a few KiB)
            _COMPILED.clear()
        found = _COMPILED[(pattern, linear)] = compile_regex(pattern, linear)
    return found


class LinearRegexError(ValueError):
    """A regex the linear-time engine cannot run (it needs backtracking)."""


def compile_regex(pattern: str, linear: bool = False):
    """`re.compile(pattern)`, or with `linear`, the pattern compiled for RE2, whose matching
    time is linear in the text: the regexes of rules from a project's rule folders run there,
    so that no rule can freeze a check (`(a+)+$` backtracks exponentially in Python's `re`).
    RE2 has no backreferences and no lookaround; such a pattern raises LinearRegexError."""
    if not linear:
        return re.compile(pattern)
    import re2  # google-re2: only rule folders' regexes need it

    re.compile(pattern)  # Python's own syntax errors first, in Python's words
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise LinearRegexError(
            f"{pattern!r} needs backtracking ({detail}): the regexes of rules from rule-dirs "
            "run on a linear-time engine (RE2), without backreferences or lookaround") from None


class _Search:
    """One regex of `metadata.prefilter`, compiled for a fast scan (with `linear`, compiled for
    RE2 and searched as it is: see `compile_regex`)."""

    __slots__ = ("source", "linear", "_plain", "_by_word", "_line_start", "_aliased", "_cache",
                 "_heads", "_needs")

    def __init__(self, source: str, linear: bool = False):
        self.source = source
        self.linear = linear
        self._aliased = tuple(dict.fromkeys(
            name for group in _ALIAS.findall(source) for name in group.split("|")))
        self._cache: dict[tuple, _Search] = {}
        pattern = _spelled(source)
        # one of the three is set: the regex (re's or RE2's), the regexes by the words they
        # start with, or the pair searched after a newline and at the start
        self._plain: Any = None
        self._by_word: list[tuple[bytes, re.Pattern[str]]] | None = None
        self._line_start: tuple[re.Pattern[str], re.Pattern[str]] | None = None
        # for the regex re scans slowly (no literal prefix): the literals one of which each match
        # starts with (it is then tried only where one occurs), or else contains
        self._heads: tuple[str, ...] | None = None
        self._needs: tuple[str, ...] | None = None
        m = None if linear else _LEADING_WORDS.match(pattern)
        if linear:
            self._plain = compile_regex(pattern, linear=True)
        elif m:
            rest = pattern[m.end():]
            # `\b` + word + a next character that is not a word character: the word is whole,
            # and the file's word set tells at once whether it occurs
            # not after a dot: checked behind the word, so that the scan still starts from it
            behind = r"(?<![\w.]" if m.group(1) != "\\b" else None
            self._by_word = [
                (w.encode(), re.compile(re.escape(w) + (
                    behind + re.escape(w) + ")" if behind else "") + rest))
                for w in (m.group(2) or m.group(3)).split("|")]
            re.compile(pattern)  # the regex as written must be valid too
        elif pattern.startswith("(?m)^"):
            rest = pattern[len("(?m)^"):]
            self._line_start = (re.compile("(?m)\n(?:" + rest + ")"), re.compile("(?m)" + rest))
        else:
            self._plain = re.compile(pattern)
            self._heads, self._needs = _literals(pattern)

    def __eq__(self, other):  # the same regex in two rules is searched once per file
        return type(other) is _Search and (other.source, other.linear) == (
            self.source, self.linear)

    def __hash__(self):
        return hash((_Search, self.source, self.linear))

    def for_aliases(self, aliases: dict[str, tuple[str, ...]]) -> _Search:
        key = tuple(sorted(aliases.items()))
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) > 256:  # aliases seen in this many spellings: start again
                self._cache.clear()
            found = _Search(_with_aliases(self.source, aliases), self.linear)
            found._aliased = ()
            self._cache[key] = found
        return found

    def _resolved(self, text: FileText) -> _Search:
        """This search, or the one that also spells the aliases the file imports."""
        if self._aliased:
            aliases = {n: a for n in self._aliased if (a := text.aliases(n))}
            if aliases:
                return self.for_aliases(aliases)
        return self

    def captured_in(self, text: FileText) -> set[str]:
        """Every value the regex's first group takes in the text (for `same`)."""
        resolved = self._resolved(text)
        if resolved is not self:
            return resolved.captured_in(text)
        s = text.text
        if self._plain is not None:
            if not self._may_occur(s):
                return set()
            return set(self._plain.findall(s))
        if self._by_word is not None:
            return {v for word, regex in self._by_word if word in text.words
                    for v in regex.findall(s)}
        assert self._line_start is not None
        after_newline, at_start = self._line_start
        found = set(after_newline.findall(s))
        first = at_start.match(s)
        if first is not None:
            found.add(first.group(1))
        return found

    def found_in(self, text: FileText) -> bool:
        resolved = self._resolved(text)
        if resolved is not self:
            return resolved.found_in(text)
        s = text.text
        if self._plain is not None:
            if self._heads is not None:
                return self._found_at_heads(s)
            return self._may_occur(s) and self._plain.search(s) is not None
        if self._by_word is not None:
            words = text.words
            return any(word in words and regex.search(s) is not None
                       for word, regex in self._by_word)
        assert self._line_start is not None
        after_newline, at_start = self._line_start
        return after_newline.search(s) is not None or at_start.match(s) is not None

    def starts(self, s: str) -> Iterator[int]:
        """The offsets where a match starts (those at a leading literal found by `str.find`,
        not in text order), for a regex written without aliases (`_resolved` first)."""
        if self._plain is not None and self._heads is not None:
            return self._matches_at_heads(s)
        return (m.start() for m in _compiled(_spelled(self.source), self.linear).finditer(s))

    def _may_occur(self, s: str) -> bool:
        """False when the text lacks every literal a match needs."""
        literals = self._heads or self._needs
        return literals is None or any(literal in s for literal in literals)

    def _found_at_heads(self, s: str) -> bool:
        """The regex matched at each place where one of its leading literals occurs: a match
        exists there iff `search` finds one (`\\b` and lookbehinds see the text before `pos`)."""
        return next(self._matches_at_heads(s), None) is not None

    def _matches_at_heads(self, s: str) -> Iterator[int]:
        """Where the regex matches, tried at each occurrence of a leading literal."""
        assert self._plain is not None
        match = self._plain.match
        for head in self._heads or ():
            i = s.find(head)
            while i >= 0:
                if match(s, i) is not None:
                    yield i
                i = s.find(head, i + 1)


_MIN_LITERAL = 3  # shorter literals (`=`, `](`) occur too often to save a scan


def _literals(pattern: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The leading literals of a regex (none a prefix of another), else the literals one of
    which its matches contain; each None when too short to help (`regex_literals.py`)."""
    starts = regex_literals.heads(pattern)
    if starts and min(map(len, starts)) >= _MIN_LITERAL:
        return tuple(sorted(h for h in starts if not any(
            o != h and h.startswith(o) for o in starts))), None
    contained = regex_literals.needs(pattern)
    if contained and min(map(len, contained)) >= _MIN_LITERAL:
        return None, tuple(sorted(h for h in contained if not any(
            o != h and o in h for o in contained)))
    return None, None


class _LineSearch:
    """`{regex: R, lines-with: LIT}`: R searched within each line that contains LIT (a string or
    a list of them). For a regex whose matches sit on one line that holds a literal (`+=`): the
    lines are found with `str.find`, instead of trying the regex at every line start."""

    __slots__ = ("source", "literals", "_regex")

    def __init__(self, source: str, literals, linear: bool = False):
        if isinstance(literals, str):
            literals = [literals]
        if not isinstance(literals, list) or not literals or not all(
                isinstance(x, str) and x and "\n" not in x for x in literals):
            raise ValueError("`lines-with` is a non-empty string (or a list of them) on one line")
        if _ALIAS.search(source):
            raise ValueError("`{@name}` is not supported with `lines-with`")
        self.source = source
        self.literals = tuple(literals)
        self._regex = compile_regex("(?m)" + source, linear)

    def _lines(self, s: str):
        starts = set()
        for literal in self.literals:
            i = s.find(literal)
            while i >= 0:
                start = s.rfind("\n", 0, i) + 1
                starts.add(start)
                end = s.find("\n", i)
                if end < 0:
                    break
                i = s.find(literal, end)
        for start in sorted(starts):
            end = s.find("\n", start)
            yield start, len(s) if end < 0 else end

    def found_in(self, text: FileText) -> bool:
        s = text.text
        return any(self._regex.search(s, start, end) is not None for start, end in self._lines(s))

    def captured_in(self, text: FileText) -> set[str]:
        s = text.text
        return {v for start, end in self._lines(s) for v in self._regex.findall(s, start, end)}


class _OutsideSearch:
    """`{regex: R, outside: functions}`: R found at a place that is not inside a function
    (`blocks.Layout.function_bodies`: the functions known for certain; a place the layout
    cannot vouch for counts as outside). For a rule that flags code run at import time.
    `{regex: R, outside: docstrings}`: R found outside the strings that span lines
    (`blocks.Layout.strings`: docstrings, whose usage examples, `X = load_iris()`, are not
    code)."""

    __slots__ = ("source", "_search", "outside")

    def __init__(self, source: str, linear: bool = False, outside: str = "functions"):
        self.source = source
        self._search = _Search(source, linear)
        self.outside = outside

    def found_in(self, text: FileText) -> bool:
        resolved = self._search._resolved(text)
        if not resolved.found_in(text):
            return False
        hits: Iterator[int]
        if self.outside == "functions":
            bodies = text.function_bodies()
            hits = (m.start() for m in _compiled(_spelled(resolved.source),
                                                 resolved.linear).finditer(text.text))
        else:
            bodies = text.multiline_strings()
            if not bodies:
                return True
            hits = resolved.starts(text.text)
        starts = [start for start, _ in bodies]
        for hit in hits:
            i = bisect.bisect_right(starts, hit) - 1
            if i < 0 or hit >= bodies[i][1]:
                return True
        return False

    def __eq__(self, other):  # the same item in two rules is searched once per file
        return type(other) is _OutsideSearch and (other.source, other.outside) == (
            self.source, self.outside) and other._search == self._search

    def __hash__(self):
        return hash((_OutsideSearch, self.source, self.outside))


def _search_of(value, linear: bool = False) -> _Search | _LineSearch:
    """A regex item: a string, or `{regex: R, lines-with: LIT}`."""
    if isinstance(value, str):
        return _Search(value, linear)
    if isinstance(value, dict) and set(value) == {"regex", "lines-with"} and isinstance(
            value["regex"], str):
        return _LineSearch(value["regex"], value["lines-with"], linear)
    raise ValueError("a regex is a string or {regex: ..., lines-with: ...}")


class _Regex(_Atom):
    """A regex of `metadata.prefilter` (`_Search`, `_LineSearch` or `_OutsideSearch`) found in
    the text."""

    cost = 3

    def holds(self, text: FileText | BlockText) -> bool:
        return text.search(self.value)

    def __repr__(self):
        return f"re({self.value.source!r})"


class _Same(Condition):
    """Some value captured by the first side's group is captured by the second side's group too:
    "a name assigned a string" and "a name extended with +=" name the same variable. The first
    side is searched for its values; the second side then once per value, with its group
    replaced by that value (a literal, which Python's `re` scans for fast), so write the cheaper
    or rarer side first."""

    __slots__ = ("first", "second")
    cost = 4
    MAX_VALUES = 40  # more values than this: assume one is shared (the filter only widens)

    def __init__(self, first: list[_Search], second: list[_Template]):
        self.first, self.second = first, second

    def holds(self, text: FileText | BlockText) -> bool:
        if isinstance(text, BlockText):
            return True  # regexes are about whole files (as `BlockText.search`)
        found = text._seen.get(self)
        if found is None:
            values = set().union(*(s.captured_in(text) for s in self.first))
            found = bool(values) and (len(values) > self.MAX_VALUES or any(
                t.found_with(value, text) for value in values for t in self.second))
            text._seen[self] = found
        return found

    def __repr__(self):
        return f"same({[s.source for s in self.first]!r}, {[t.source for t in self.second]!r})"


class _Template:
    """A regex with one group, searched with a given value in place of the group."""

    __slots__ = ("source", "linear", "_head", "_tail", "_aliased")

    def __init__(self, source: str, linear: bool = False):
        self.source = source
        self.linear = linear
        start, end = _group_span(source)
        self._head, self._tail = source[:start], source[end:]
        self._aliased = tuple(dict.fromkeys(
            name for group in _ALIAS.findall(source) for name in group.split("|")))
        # raises when malformed (or, with `linear`, when RE2 cannot run it)
        compile_regex(_ALIAS.sub("x", self._head + "x" + self._tail), linear)

    def found_with(self, value: str, text: FileText) -> bool:
        pattern = self._head + re.escape(value) + self._tail
        if self._aliased:
            pattern = _spelled(_with_aliases(pattern, {n: text.aliases(n)
                                                       for n in self._aliased}))
        return _compiled(pattern, self.linear).search(text.text) is not None


def _group_span(source: str) -> tuple[int, int]:
    """Where the first capturing group `( ... )` of a regex starts and ends."""
    i, depth, start, in_class = 0, 0, -1, False
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if source[i + 1:i + 2] == "]":
                i += 1
        elif c == "(":
            if start < 0 and not source.startswith("(?", i):
                start, depth = i, 0
            if start >= 0:
                depth += 1
        elif c == ")" and start >= 0:
            depth -= 1
            if depth == 0:
                return start, i + 1
        i += 1
    raise ValueError(f"a regex of `same` needs a group to capture: {source!r}")


def _group_searches(value, linear: bool = False) -> list:
    items = value.get("any") if isinstance(value, dict) and set(value) == {"any"} else [value]
    if not isinstance(items, list) or not items:
        raise ValueError("each side of `same` is a regex or {any: [regex, ...]}")
    searches = [_search_of(v, linear) for v in items]
    for search in searches:
        if re.compile(_ALIAS.sub("x", search.source)).groups != 1:
            raise ValueError(f"a regex of `same` needs exactly one group: {search.source!r}")
    return searches


def parse_prefilter(value, linear: bool = False) -> Condition | None:
    """`metadata.prefilter` as a condition. Raises ValueError (with what is wrong) or re.error.
    `linear`: compile every regex for RE2 (the rules of a project's rule folders)."""
    if isinstance(value, str):
        return _Regex(_Search(value, linear))
    if isinstance(value, dict) and set(value) == {"same"}:
        pair = value["same"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("`same` takes two regexes (or {any: [...]} each)")
        second = _group_searches(pair[1], linear)
        if not all(isinstance(t, _Search) for t in second):
            raise ValueError("the second side of `same` takes plain regexes")
        return _Same(_group_searches(pair[0], linear),
                     [_Template(t.source, linear) for t in second])
    if isinstance(value, dict) and set(value) == {"regex", "lines-with"}:
        return _Regex(_search_of(value, linear))
    if isinstance(value, dict) and set(value) == {"regex", "outside"}:
        if value["outside"] not in ("functions", "docstrings") or \
                not isinstance(value["regex"], str):
            raise ValueError("`outside` takes `functions` or `docstrings`, with a regex string")
        return _Regex(_OutsideSearch(value["regex"], linear, value["outside"]))
    if isinstance(value, dict) and set(value) == {"any"} and isinstance(value["any"], list) \
            and value["any"]:
        return any_of(parse_prefilter(v, linear) for v in value["any"])
    if isinstance(value, list) and value:
        return all_of(parse_prefilter(v, linear) for v in value)
    raise ValueError("must be a regex, {regex: ..., lines-with: ...}, {regex: ..., outside: "
                     "functions | docstrings}, a non-empty list of them (all required), "
                     "{any: [...]} (one required) or {same: [regex, regex]}")


# --- conditions derived from a rule ----------------------------------------------------------

# What a pattern needs: names and keywords as words, operators as substrings. String literals
# are skipped (a pattern's string matches a string, whatever its quotes).
_TOKEN = re.compile(r"(?<![\w$])[A-Za-z_]\w*|\*\*=|//=|>>=|<<=|[-+*/%@&|^]=|\*\*|//|:=|->")
_PY_STRING = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")
# `^(a|b)$` on a node that is a name: one of the words is the node's whole text
_PLAIN_ALTERNATIVES = re.compile(r"^(?:\(\?-u\))?\^\(?([A-Za-z_][\w|]*)\)?\$$")
# `(^|\.)(a|b)$` on a node that is a name or a dotted name (`model.predict`): one of the words
# ends the node's text, after a dot or as all of it, so it is a whole word of the file
_DOTTED_ALTERNATIVES = re.compile(r"^(?:\(\?-u\))?\(\^\|\\\.\)\(([A-Za-z_][\w|]*)\)\$$")
# `\bword\b` / `\b(a|b)\b` anywhere in a node: the word occurs whole
_WHOLE_WORDS = re.compile(r"^(?:\(\?-u\))?\\b\(?([A-Za-z_][\w|]*)\)?\\b$")
_NAME_FIELDS = frozenset({"function", "attribute", "name", "object", "left", "value", "key"})
_AUG_OPS = ("+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "^=", "|=", "@=")
_KEYWORD_KINDS = {
    "for_statement": "for", "while_statement": "while", "with_statement": "with",
    "function_definition": "def", "class_definition": "class", "list_comprehension": "for",
    "set_comprehension": "for", "dictionary_comprehension": "for",
    "generator_expression": "for", "lambda": "lambda", "try_statement": "try",
    "finally_clause": "finally", "except_clause": "except", "import_statement": "import",
    "import_from_statement": "import", "return_statement": "return", "yield": "yield",
    "await": "await", "global_statement": "global", "if_statement": "if",
    "assert_statement": "assert", "delete_statement": "del", "raise_statement": "raise",
}


def _pattern_condition(pattern) -> Condition | None:
    if isinstance(pattern, dict):
        if pattern.get("selector") or pattern.get("strictness") not in (None, "cst", "smart",
                                                                         "ast"):
            return None  # the context holds code around the node that the match lacks
        pattern = pattern.get("context", "")
    if not isinstance(pattern, str):
        return None
    parts: list[Condition] = []
    for segment in _PY_STRING.split(pattern):
        if segment.startswith(("'", '"')):
            continue
        for token in _TOKEN.findall(segment):
            parts.append(_Words([token], True) if token[0].isalpha() or token[0] == "_"
                         else _Fragment(token))
    return all_of(parts)


def _kind_condition(kind) -> Condition | None:
    if kind in _KEYWORD_KINDS:
        return _Words([_KEYWORD_KINDS[kind]], True)
    if kind in ("decorator", "decorated_definition"):
        return _Fragment("@")
    if kind == "augmented_assignment":
        return any_of(_Fragment(op) for op in _AUG_OPS)
    return None


def derive(rule, utils: dict, constraints: dict | None = None,
           _seen: frozenset = frozenset(), block: frozenset[str] | None = None
           ) -> Condition | None:
    """A condition every file that `rule` (an ast-grep rule object, as written or read into a
    `ruletree.Node`) matches in meets. With `block` (the containers of a level of
    `locality.py`), one that the text of the blanked block holding the match meets, for a rule
    local at that level: an `inside` that may reach a container, and `precedes`/`follows`, are
    left out (what they ask for may be in the code around the blocks)."""
    node = rule if isinstance(rule, Node) else Node.read(rule)
    if not isinstance(node.raw, dict):
        return None
    relations = dict(node.relations)
    parts: list[Condition | None] = []
    for key in node.raw:  # in the order written: the same condition every time
        if block and (key in ("precedes", "follows") or key == "inside"
                      and may_reach(node.raw[key], utils, block)):
            continue  # what it asks for may be outside the block
        if key == "pattern":
            parts.append(_pattern_condition(node.pattern))
        elif key == "kind":
            parts.append(_kind_condition(node.kind))
        elif key == "regex" and isinstance(node.regex, str):
            m = _PLAIN_ALTERNATIVES.match(node.regex) or _DOTTED_ALTERNATIVES.match(node.regex)
            # a name node's whole text (inside a string, an escape such as `\nsum` could glue
            # the text to a letter: only nodes that are names count)
            if m and (node.kind == "identifier" or node.raw.get("field") in _NAME_FIELDS):
                parts.append(_Words(m.group(1).split("|"), need_all=False))
            m = _WHOLE_WORDS.match(node.regex)
            if m:
                parts.append(_Words(m.group(1).split("|"), need_all=False))
        elif key in relations:
            parts.append(derive(relations[key].rule, utils, None, _seen, block))
        elif key == "all" and node.all is not None:
            parts += [derive(sub, utils, None, _seen, block) for sub in node.all]
        elif key == "any" and node.any is not None:
            parts.append(any_of(derive(sub, utils, None, _seen, block) for sub in node.any))
        elif key == "matches" and node.matches in utils and node.matches not in _seen:
            parts.append(derive(utils[node.matches], utils, None, _seen | {node.matches}, block))
    # A rule matches only with every constrained metavariable captured, by a node the
    # constraint accepts: that node is in the file too. Only for single metavariables that a
    # pattern outside any `not` binds (ast-grep does not constrain `$$$` ones).
    if constraints:
        bound = _bound_vars(node, utils)
        parts += [derive(c, utils, None, _seen, block) for var, c in constraints.items()
                  if var in bound]
    return all_of(parts)


_SINGLE_VAR = re.compile(r"(?<!\$)\$([A-Z_][A-Z0-9_]*)")


def _bound_vars(node: Node, utils: dict, seen: frozenset = frozenset()) -> set[str]:
    """The single metavariables its patterns bind outside any `not`, through its utils."""
    out: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        text = current.pattern.get("context", "") if isinstance(current.pattern, dict) \
            else current.pattern
        if isinstance(text, str):
            out.update(_SINGLE_VAR.findall(text))
        name = current.matches
        if name in utils and name not in seen:
            seen = seen | {name}
            pending.append(Node.read(utils[name]))
        pending += [child for child in current.children() if child is not current.not_]
    return out


def rule_condition(config: dict, extra: Condition | None = None) -> Condition | None:
    """The condition of a rule config (`rule`, `utils`, `constraints`), with the rule's own
    `metadata.prefilter` (already parsed) added."""
    try:
        derived = derive(config["rule"], config.get("utils") or {}, config.get("constraints"))
    except RecursionError:
        derived = None
    return all_of([derived, extra])


def block_condition(config: dict, containers: frozenset[str]) -> Condition | None:
    """What the text of a block (of the level `containers` names) holds when a rule local at
    that level (a variant of it, as rewritten for a file's imports) matches in it."""
    try:
        return derive(config["rule"], config.get("utils") or {}, config.get("constraints"),
                      block=containers)
    except RecursionError:
        return None
