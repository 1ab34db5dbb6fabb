"""The editor's settings: three tables in step (package.json declares them, the VS Code client
sends them, the server reads them), and every number falling back to its default when it is no
number anyone means."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from memlens.lsp import settings

ROOT = Path(__file__).resolve().parents[2]


def package_settings() -> dict[str, dict]:
    """package.json's `memlens.<key>` settings, by key."""
    properties = json.loads((ROOT / "package.json").read_text())["contributes"][
        "configuration"]["properties"]
    return {name.removeprefix("memlens."): spec for name, spec in properties.items()}


def client_tables() -> tuple[dict[str, dict], list[str]]:
    """The client's table of the settings it sends (client/src/settings.ts, SENT: key -> kind,
    default, min) and its list of those it never sends (CLIENT_ONLY)."""
    source = (ROOT / "client" / "src" / "settings.ts").read_text()
    block = re.search(r"^export const SENT = \{\n(.*?)^\} as const;", source, re.M | re.S)
    assert block, "client/src/settings.ts has no SENT table"
    sent = {}
    for line in block.group(1).splitlines():
        entry = re.fullmatch(r"\s*'?([\w.]+)'?: \{ kind: '(\w+)'(?:, default: ([\d.]+), "
                             r"min: ([\d.]+))? \},", line)
        assert entry, f"an entry of SENT not read: {line!r}"
        key, kind, default, least = entry.groups()
        sent[key] = {"kind": kind, **({"default": float(default), "min": float(least)}
                                      if default is not None else {})}
    only = re.search(r"^export const CLIENT_ONLY = \[(.*?)\] as const;", source, re.M | re.S)
    assert only, "client/src/settings.ts has no CLIENT_ONLY list"
    return sent, re.findall(r"'([\w.]+)'", only.group(1))


def test_package_json_the_client_and_the_server_have_the_same_settings():
    """Every setting package.json declares is sent by the client or kept by it (how to start
    the server, what to log), and every one sent is read by the server under the key the
    client sends, with the same default and a least value the server takes. (Before,
    `memlens.checkTimeoutSeconds` was declared and read but never sent.)"""
    declared = package_settings()
    sent, client_only = client_tables()
    assert not set(sent) & set(client_only)
    assert set(declared) == set(sent) | set(client_only), (
        f"declared, neither sent nor kept by the client: {set(declared) - set(sent) - set(client_only)}; "
        f"sent or kept but not declared: {(set(sent) | set(client_only)) - set(declared)}")
    read_as = {keys[0]: field for field, keys in settings.KEYS.items()}
    for key, spec in sent.items():
        assert key in read_as, f"the client sends {key!r}, which the server does not read"
        field = read_as[key]
        if spec["kind"] == "number":
            assert declared[key]["type"] == "number", key
            default, least, greatest = settings.NUMBERS[field]
            assert spec["default"] == declared[key]["default"] == default, key
            assert spec["min"] == declared[key]["minimum"] >= least, key
            assert greatest > spec["min"], key
        else:
            assert field not in settings.NUMBERS, key


DEFAULTS = settings.EditorSettings()


@pytest.mark.parametrize("field", sorted(settings.NUMBERS))
@pytest.mark.parametrize("value", [
    "inf", float("inf"), float("-inf"), float("nan"), "nan", "-1", -1, 1e300, "1e400", 10 ** 400,
    True, [], {}, "many", "",
])
def test_a_number_no_one_means_is_the_default(field: str, value):
    key = settings.KEYS[field][0]
    raw: dict = {}
    node = raw
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    parsed = settings.parse(raw)
    assert getattr(parsed, field) == getattr(DEFAULTS, field), (field, value)


@pytest.mark.parametrize("field", sorted(settings.NUMBERS))
def test_a_number_in_range_is_taken(field: str):
    default, least, greatest = settings.NUMBERS[field]
    value = least + (greatest - least) / 2
    parsed = settings.parse({settings.KEYS[field][0].split(".")[-1]: value} if "." not in
                            settings.KEYS[field][0] else
                            {"profile": {settings.KEYS[field][0].split(".")[1]: str(value)}})
    assert getattr(parsed, field) == pytest.approx(value, abs=1)
