"""Load and validate rule files: one ast-grep YAML rule per file, named by its id."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from memlens.engine.model import Applicability, Severity
from memlens.engine.safe_read import read_text, repository_of

DOCS_URL = "https://github.com/memlens/memlens/blob/main/docs/rules.md#{anchor}"
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info", "hint")
NOTE_SECTIONS = ("What it does", "Why is this bad", "Example", "Use instead")
_REQUIRED = ("id", "message", "severity", "rule", "note", "metadata")
_KNOWN = set(_REQUIRED) | {
    "language", "constraints", "utils", "transform", "fix", "valid", "invalid",
}
_ID = re.compile(r"^[A-Z]+[0-9]+$")
MAX_RULE_FILE = 1 << 20  # the largest built-in rule is 12 KB
AUDIT_WORDS = "may be fine: check the size"
TEST_CODE_SKIPPED = (
    "Test code: files under a `tests/`, `test/`, `testing/`, `demo/` or `demos/` folder, "
    "`test_*.py`, `*_test.py`, "
    "`tests.py`, `conftest.py`, and modules that import pytest, unittest, hypothesis or nose "
    "(`skip-test-code = false` in `[tool.memlens]` checks them).")

if TYPE_CHECKING:
    from ast_grep_py import Config

    from memlens.engine.lookup import Lookup
    from memlens.engine.prefilter import Condition
    from memlens.flow.conditions import FlowConditions
    from memlens.flow.size import SizeSpec


class RuleError(Exception):
    """A rule file that cannot be used; the message names the file and the key."""

    def __init__(self, path: Path | str, key: str | None, problem: str):
        self.path, self.key, self.problem = str(path), key, problem
        where = f"{path}: key '{key}'" if key else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class FixSpec:
    """How a rule's fix is made: an ast-grep template, or a named Python fixer with arguments."""

    applicability: Applicability
    message: str
    template: str | None = None
    fixer: str | None = None
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    id: str
    message: str
    severity: Severity
    note: str
    config: dict  # the ast-grep config: rule, constraints, utils, transform
    metadata: dict
    fix: FixSpec | None
    valid: tuple[str, ...]
    invalid: tuple[str, ...]
    source: str
    # metadata.prefilter, parsed (memlens.engine.prefilter): None when the rule has none
    prefilter: Condition | None = None
    # whether it was loaded with its checks (ast-grep compiles it; the engine cross-checks what
    # it derives from it): the built-in rules skip them, their tests run them instead
    checked: bool = True
    # metadata.lookup, parsed (memlens.engine.lookup), with the shared tables it names: None
    # when the rule has none
    lookup: tuple[Lookup, dict[str, str]] | None = None
    # metadata.flow, parsed (memlens.flow.conditions): the data-flow facts a match must have
    flow: FlowConditions | None = None
    # metadata.evidence, parsed the same way: what shows the waste's size in the code; a match
    # without it is a hint (the pattern is there, its size is not known). None: the match
    # itself shows it.
    evidence: FlowConditions | None = None
    # metadata.size: the argument naming the data file whose metadata (or a notebook's printed
    # output) tells the size
    size: SizeSpec | None = None

    @property
    def family(self) -> str:
        return str(self.metadata.get("family", ""))

    @property
    def default_on(self) -> bool:
        return bool(self.metadata.get("default", True))

    @property
    def always_hint(self) -> bool:
        """`metadata.tier: hint`: the code never shows this waste's size (the outputs of a
        model, the rows a loader read), so a match is a hint until a profile run measures it."""
        return self.metadata.get("tier") == "hint"

    @property
    def unsized_opt_in(self) -> bool:
        """`metadata.unsized: opt-in`: a finding on the pattern alone (no size evidence) is shown
        only when a selector names the rule (its id, a prefix of it, or ALL), not among the
        default rules: reviewers judged nearly all of them on user code to be small data."""
        return self.metadata.get("unsized", "hint") == "opt-in"

    @property
    def evidence_text(self) -> str:
        """What a finding of this rule rests on, for its docs (the tiers of issue 19)."""
        if self.size is not None:
            unsized = ("no finding among the default rules, a hint when a selector names the "
                       "rule" if self.unsized_opt_in else "a hint")
            return ("the size of the data file the code names (read from its metadata) or what "
                    "a notebook printed of the value: at or over `size-threshold` a warning, "
                    f"under it no finding; with neither, {unsized} (the pattern alone)")
        if self.always_hint:
            return ("the pattern alone (the code cannot show the size): always a hint, a "
                    "warning once a profile run measures the line at or over the hot-line "
                    "threshold")
        if self.evidence is not None:
            written = self.metadata.get("evidence")
            shown = "; ".join(", ".join(f"{k}: {v}" for k, v in item.items())
                              if isinstance(item, dict) else str(item)
                              for item in (written if isinstance(written, list) else [written]))
            return (f"the code, where it shows the size (`{shown}`): a warning; elsewhere a "
                    "hint (the pattern alone)")
        return "the code: the match itself shows the waste (a warning at its severity)"

    @property
    def is_audit(self) -> bool:
        """A rule of the audit group (`metadata.group: audit`, selected with AUDIT): the code
        shows no evidence of the data's size, so its findings ask to check it ("may be fine")."""
        return self.metadata.get("group") == "audit"

    @property
    def checks_test_code(self) -> bool:
        """Whether it runs on test code too (`metadata.test-code: check`): rules about data
        size do not (`context.py`), rules about correctness (a file never closed, the garbage
        collector left off) do."""
        return self.metadata.get("test-code", "skip") == "check"

    @property
    def measured(self) -> Measured | None:
        """Its precision as measured on the ecosystem corpus (`rules/measured.json`, written by
        `benchmarks/ecosystem/run.py --write-measured`); None for a rule not measured there."""
        if Path(self.source).parent != builtin_rule_dir():
            return None
        return measured_precision().get(self.id)

    @property
    def url(self) -> str:
        return DOCS_URL.format(anchor=self.id.lower())

    @property
    def display_message(self) -> str:
        """The message for people: each `$A`-style metavariable (with the code around it, as in
        `$M.eval()` or `np.$FN`) as inline code without the `$`: "`A` is regrown ..."."""
        return readable_message(self.message)

    def docs_markdown(self, heading: str | None = None) -> str:
        """The rule's documentation: its message, note and metadata, as markdown.

        `heading`: a finding's own (expanded) message to title it with instead (the hover)."""
        title = self.display_message if heading is None else heading
        lines = [f"# {self.id}: {title}", ""]
        lines.append(self.note.strip())
        facts = [f"- Severity: {self.severity}", f"- Family: {self.family}",
                 f"- On by default: {'yes' if self.default_on else 'no (opt-in)'}"]
        if self.is_audit:
            facts.append("- Group: audit (select with `AUDIT`): the code cannot show the data's "
                         "size, so a finding asks you to check it")
        facts.append(f"- Evidence: {self.evidence_text}")
        if self.fix:
            kind = "safe, applied by --fix" if self.fix.applicability == "safe" else \
                "suggestion, applied by --fix --unsafe-fixes"
            facts.append(f"- Fix: {self.fix.message} ({kind})")
        if self.metadata.get("requires"):
            facts.append(f"- Advice needs: {', '.join(_as_list(self.metadata['requires']))}")
        skipped = [self.metadata["precision"].strip()] if self.metadata.get("precision") else []
        if not self.checks_test_code:
            skipped.append(TEST_CODE_SKIPPED)
        if skipped:
            facts.append(f"- Does not flag: {' '.join(skipped)}")
        measured = self.measured
        if measured is not None:
            facts.append(f"- Measured precision: {measured.describe()}")
        lines += ["", "## Facts", *facts, "", f"[{self.id} documentation]({self.url})"]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        return {
            "code": self.id,
            "message": self.message,
            "severity": self.severity,
            "family": self.family,
            "default": self.default_on,
            "group": self.metadata.get("group", ""),
            "fix": None if self.fix is None else {
                "applicability": self.fix.applicability, "message": self.fix.message},
            "requires": _as_list(self.metadata.get("requires")),
            "measured": None if self.measured is None else self.measured.to_dict(),
            "url": self.url,
            "explanation": self.note,
        }


@dataclass(frozen=True)
class Measured:
    """A rule's findings on the ecosystem corpus and the verdicts of strict reviewers on them."""

    findings: int  # what it finds on the corpus
    judged: int  # how many of those are judged in benchmarks/ecosystem/labels.csv
    true: int  # how many of the judged a memory-aware reviewer would act on
    corpus: str  # which corpus

    @property
    def precision(self) -> float | None:
        return self.true / self.judged if self.judged else None

    def describe(self) -> str:
        if not self.findings:
            return f"no finding on {self.corpus}, so none judged"
        share = f"{self.precision:.0%}" if self.precision is not None else "-"
        return (f"{share} ({self.true} of {self.judged} judged findings true; "
                f"{self.findings} findings on {self.corpus})")

    def to_dict(self) -> dict:
        return {"findings": self.findings, "judged": self.judged, "true": self.true,
                "precision": self.precision, "corpus": self.corpus}


def measured_precision() -> dict[str, Measured]:
    global _MEASURED
    if _MEASURED is None:
        import json

        path = builtin_rule_dir() / "measured.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {"corpus": "", "rules": {}}
        _MEASURED = {code: Measured(entry["findings"], entry["judged"], entry["true"],
                                    data.get("corpus", ""))
                     for code, entry in data.get("rules", {}).items()}
    return _MEASURED


_MEASURED: dict[str, Measured] | None = None


# A metavariable ($A, $$$ARGS) with the dotted names, and a closing call, joined to it.
_METAVAR_RUN = re.compile(
    r"(?:[A-Za-z_]\w*\.)*\${1,3}[A-Z_][A-Z0-9_]*(?:\.\${0,3}[A-Za-z_]\w*)*(?:\((?:\.\.\.)?\))?")




def readable_message(message: str) -> str:
    """`message` with its metavariables readable: "$F.$METHOD() reads" -> "`F.METHOD()` reads";
    what a data-flow fact fills in (`{kept}`) reads as "..."."""
    if "{" in message:
        from memlens.flow.conditions import FIELD  # (docs and hovers only)

        message = FIELD.sub("…", message)
    if "$" not in message:
        return message
    return _METAVAR_RUN.sub(lambda m: "`" + re.sub(r"\$+", "", m.group(0)) + "`", message)


def builtin_rule_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "rules"


def load_rule_dir(directory: Path | str, check: bool = True) -> list[Rule]:
    """The rules of a directory. `check=False` skips asking ast-grep to compile each rule (the
    built-in rules, which the tests compile, on the start-up path of every run)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RuleError(directory, None, "rule directory does not exist")
    files = sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml"))
    return [load_rule_file(p, check) for p in files]


def shared_utils() -> dict[str, dict]:
    """The utility rules every rule may name with `matches:` (`rules/utils/*.yml`, one per file:
    `id`, `rule`, `note`), as ast-grep's `utilDirs` has them: what is test or package data,
    what loop runs once per data item."""
    return _load_shared()[0]


def shared_tables() -> dict[str, str]:
    """The name tables a rule's `metadata.lookup` may name (`rules/utils/*.yml` files with
    `id`, `assigned-from` and `note`): the names assigned a value matching a regex
    (`engine/lookup.py`)."""
    return _load_shared()[1]


def _load_shared() -> tuple[dict[str, dict], dict[str, str]]:
    global _SHARED
    if _SHARED is None:
        utils, tables = {}, {}
        for path in sorted((builtin_rule_dir() / "utils").glob("*.yml")):
            data = _read_yaml(path)
            if not isinstance(data, dict) or data.get("id") != path.stem:
                raise RuleError(path, "id", f"must be the file's name, {path.stem!r}")
            if set(data) == {"id", "rule", "note"} and isinstance(data["rule"], dict):
                utils[data["id"]] = data["rule"]
            elif set(data) == {"id", "assigned-from", "note"} and isinstance(
                    data["assigned-from"], str):
                re.compile(data["assigned-from"])
                tables[data["id"]] = data["assigned-from"]
            else:
                raise RuleError(path, None, "a utility has exactly id, note and rule (or "
                                            "assigned-from, for a table of names)")
        _SHARED = (utils, tables)
    return _SHARED


_SHARED: tuple[dict[str, dict], dict[str, str]] | None = None


def with_shared_utils(config: dict, also: tuple[str, ...] = ()) -> dict:
    """`config` with the shared utilities it names (and those they name, and `also`) among its
    own utils; a rule's own util of the same name wins."""
    shared = shared_utils()
    own = dict(config.get("utils") or {})
    wanted = [name for name in [*_matched_names(config), *also] if name not in own]
    added = False
    while wanted:
        name = wanted.pop()
        if name in own or name not in shared:
            continue
        own[name] = shared[name]
        added = True
        wanted += _matched_names(shared[name])
    return {**config, "utils": own} if added else config


def _matched_names(value) -> list[str]:
    if isinstance(value, dict):
        out = [value["matches"]] if isinstance(value.get("matches"), str) else []
        for sub in value.values():
            out += _matched_names(sub)
        return out
    if isinstance(value, list):
        return [name for sub in value for name in _matched_names(sub)]
    return []


def _lookup_util_names(value) -> list[str]:
    """The util names a `metadata.lookup` refers to (for shared utils to be merged in)."""
    if isinstance(value, list):
        return [n for v in value for n in _lookup_util_names(v)]
    if isinstance(value, dict):
        if "any" in value:
            return _lookup_util_names(value["any"])
        return [v for k, v in value.items() if k in ("in", "not-in") and isinstance(v, str)]
    return []


def _read_yaml(path: Path):
    """A rule file's YAML: a regular file of at most MAX_RULE_FILE bytes in its own repository
    (safe_read), without aliases of mappings or lists (an alias bomb of a few hundred bytes
    expands for hours as the rule is read; no rule needs one)."""
    import yaml  # here: a warm `memlens check` loads no rule

    # libyaml when PyYAML has it: ten times faster, and rule loading is most of start-up
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(read_text(path, MAX_RULE_FILE, within=repository_of(path.parent)),
                         Loader=loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(path, None, f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RuleError(path, None, f"invalid YAML: {exc}") from exc
    except RecursionError:  # (libyaml stops at 1,000 levels; PyYAML alone recurses)
        raise RuleError(path, None, "invalid YAML: nested too deep") from None
    if _shares_a_node(data):
        raise RuleError(path, None, "a YAML alias (*name) repeats a mapping or a list: rule "
                                    "files may not use them (each can double the rule)")
    return data


def _shares_a_node(data) -> bool:
    """Whether a mapping or list appears twice in `data`: PyYAML gives an alias the object of
    its anchor, so the walk is linear in the file, where walking an alias bomb's expansion
    takes hours."""
    seen: set[int] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        children: Iterable[object]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if id(node) in seen:
            return True
        seen.add(id(node))
        stack.extend(children)
    return False


def load_rule_file(path: Path | str, check: bool = True) -> Rule:
    path = Path(path)
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise RuleError(path, None, "a rule file must be a YAML mapping")
    return parse_rule(data, path, check)


def parse_rule(data: dict, path: Path | str = "<rule>", check: bool = True) -> Rule:
    for key in _REQUIRED:
        if key not in data:
            raise RuleError(path, key, "missing")
    unknown = set(data) - _KNOWN
    if unknown:
        raise RuleError(path, sorted(unknown)[0], "unknown key")
    rule_id = data["id"]
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise RuleError(path, "id", "must look like ML102 (capital letters then digits)")
    if Path(path).suffix in (".yml", ".yaml") and Path(path).stem != rule_id:
        raise RuleError(path, "id", f"is {rule_id!r} but the file is named {Path(path).name!r}")
    if data.get("language", "python").lower() != "python":
        raise RuleError(path, "language", "only python is supported")
    if data["severity"] not in SEVERITIES:
        raise RuleError(path, "severity", f"must be one of {', '.join(SEVERITIES)}")
    for key in ("message", "note"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise RuleError(path, key, "must be a non-empty string")
    missing = [s for s in NOTE_SECTIONS if f"## {s}" not in data["note"]]
    if missing:
        raise RuleError(path, "note", f"lacks the section(s) {', '.join(missing)}")
    metadata = data["metadata"]
    if not isinstance(metadata, dict):
        raise RuleError(path, "metadata", "must be a mapping")
    if not isinstance(metadata.get("family"), str):
        raise RuleError(path, "metadata.family", "missing")
    if not isinstance(metadata.get("default", True), bool):
        raise RuleError(path, "metadata.default", "must be true or false")
    if metadata.get("group", "") not in ("", "audit"):
        raise RuleError(path, "metadata.group", "must be audit when given")
    if metadata.get("group") == "audit":
        if metadata.get("default", True):
            raise RuleError(path, "metadata.default", "an audit rule is opt-in (default: false)")
        if AUDIT_WORDS not in data["message"]:
            raise RuleError(path, "message", f"an audit rule's message says {AUDIT_WORDS!r}")
    if metadata.get("test-code", "skip") not in ("skip", "check"):
        raise RuleError(path, "metadata.test-code", "must be skip or check")
    config = {"rule": data["rule"]}
    for key in ("constraints", "utils", "transform"):
        if data.get(key):
            if not isinstance(data[key], dict):
                raise RuleError(path, key, "must be a mapping")
            config[key] = data[key]
    if not isinstance(config["rule"], dict):
        raise RuleError(path, "rule", "must be a mapping")
    tables = shared_tables()
    lookup_names = _lookup_util_names(metadata.get("lookup"))
    config = with_shared_utils(config, tuple(n for n in lookup_names if n not in tables))
    try:
        if check:
            from ast_grep_py import SgRoot  # here: listing rules, or a warm run, needs no parser

            SgRoot("", "python").root().find_all(cast("Config", config))
    except Exception as exc:  # ast-grep raises plain Exceptions for bad rules
        raise RuleError(path, "rule", f"ast-grep rejects it: {exc}") from exc
    for key in ("valid", "invalid"):
        snippets = data.get(key, [])
        if not isinstance(snippets, list) or not all(isinstance(s, str) for s in snippets):
            raise RuleError(path, key, "must be a list of code snippets")
    prefilter = None
    if "prefilter" in metadata:
        from memlens.engine.prefilter import parse_prefilter

        # the regexes of a project's own rules run in linear time: none can freeze a check
        builtin = Path(path).resolve().parent == builtin_rule_dir()
        try:
            prefilter = parse_prefilter(metadata["prefilter"], linear=not builtin)
        except (ValueError, re.error) as exc:
            raise RuleError(path, "metadata.prefilter", str(exc)) from exc
    lookup: tuple[Lookup, dict[str, str]] | None = None
    if "lookup" in metadata:
        from memlens.engine.lookup import parse_lookup

        used_tables = {n: tables[n] for n in lookup_names if n in tables}
        try:
            parsed_lookup = parse_lookup(metadata["lookup"], {**(config.get("utils") or {}),
                                                              **used_tables})
        except ValueError as exc:
            raise RuleError(path, "metadata.lookup", str(exc)) from exc
        lookup = (parsed_lookup, used_tables)
    flow = evidence = None
    for key in ("flow", "evidence"):
        if key in metadata:
            from memlens.flow.conditions import FlowError, parse_flow

            try:
                parsed = parse_flow(metadata[key])
            except FlowError as exc:
                raise RuleError(path, f"metadata.{key}", str(exc)) from exc
            if key == "flow":
                flow = parsed
            else:
                evidence = parsed
    if metadata.get("tier", "hint") != "hint":
        raise RuleError(path, "metadata.tier", "must be hint when given")
    if metadata.get("unsized", "hint") not in ("hint", "opt-in"):
        raise RuleError(path, "metadata.unsized", "must be hint or opt-in when given")
    size = None
    if "size" in metadata:
        from memlens.flow.size import parse_size_spec

        try:
            size = parse_size_spec(metadata["size"])
        except ValueError as exc:
            raise RuleError(path, "metadata.size", str(exc)) from exc
    return Rule(
        id=rule_id,
        message=data["message"].strip(),
        severity=data["severity"],
        note=data["note"],
        config=config,
        metadata=metadata,
        fix=_parse_fix(data.get("fix"), metadata, path),
        valid=tuple(data.get("valid", [])),
        invalid=tuple(data.get("invalid", [])),
        source=str(path),
        prefilter=prefilter,
        checked=check,
        lookup=lookup,
        flow=flow,
        evidence=evidence,
        size=size,
    )


def _parse_fix(fix, metadata: dict, path) -> FixSpec | None:
    if fix is None:
        if "fix" in metadata:
            raise RuleError(path, "fix", "metadata.fix is set but the rule has no fix")
        return None
    kind = metadata.get("fix")
    if kind not in ("safe", "suggestion"):
        raise RuleError(path, "metadata.fix", "must be safe or suggestion when the rule has a fix")
    message = metadata.get("fix-message")
    if not isinstance(message, str) or not message.strip():
        raise RuleError(path, "metadata.fix-message", "missing: it titles the code action")
    applicability: Applicability = "safe" if kind == "safe" else "unsafe"
    if isinstance(fix, str):
        return FixSpec(applicability, message.strip(), template=fix)
    if isinstance(fix, dict) and isinstance(fix.get("template"), str):
        return FixSpec(applicability, message.strip(), template=fix["template"])
    if isinstance(fix, dict) and isinstance(fix.get("fixer"), str):
        from memlens.engine.fixers import FIXERS

        if fix["fixer"] not in FIXERS:
            raise RuleError(path, "fix.fixer", f"unknown fixer {fix['fixer']!r}")
        args = {k: v for k, v in fix.items() if k != "fixer"}
        return FixSpec(applicability, message.strip(), fixer=fix["fixer"], args=args)
    raise RuleError(path, "fix", "must be a template string, {template: ...} or {fixer: ...}")


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]
