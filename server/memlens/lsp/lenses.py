"""Code lenses: "Profile memory" above every function and method; after a run, the result
("peak 1.2 GiB · +763 MiB at line 42 · 3.1 s") and "Clear"."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from memlens.lsp import hotlines, present
from memlens.profiler.source import has_main_line

PROFILE = "memlens.profileFunction"
CLEAR = "memlens.clearProfileResults"


async def functions_of(server, uri: str):
    doc = server.open_document(uri)
    if doc is None:
        return None, []
    text, version = doc.source, doc.version
    loop = asyncio.get_running_loop()
    functions = await loop.run_in_executor(None, server.functions.get, uri, version, text)
    return doc, functions


def register(server) -> None:

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    async def code_lens(ls, params: types.CodeLensParams):
        uri = params.text_document.uri
        doc, functions = await functions_of(ls, uri)
        if doc is None:
            return []
        has_main = has_main_line(doc.source)
        placed = {p.record.qualname: p for p in hotlines.placements(ls, uri)}
        lenses = []
        for fn in functions:
            rng = {"start": {"line": fn.def_line, "character": 0},
                   "end": {"line": fn.def_line, "character": 0}}
            args = {"uri": uri, "qualname": fn.qualname, "line": fn.def_line,
                    "needsCall": fn.needs_call(has_main)}
            p = placed.get(fn.qualname)
            if p is None:
                stale = ls.profiles.stale(uri).get(fn.qualname)
                title = "Profile memory" if stale is None else \
                    "Profile memory (the last profile is stale: the function changed)"
                lenses.append({"range": rng, "command": {
                    "title": title, "command": PROFILE, "arguments": [args]}})
                continue
            title = present.lens_title(p.result, p.current)
            call = p.result.call
            if call:
                args = dict(args, call=call)
            lenses.append({"range": rng, "command": {
                "title": title, "command": PROFILE, "arguments": [args],
                "tooltip": "Profile memory again"}})
            lenses.append({"range": rng, "command": {
                "title": "Clear", "command": CLEAR,
                "arguments": [{"uri": uri, "qualname": fn.qualname}]}})
        return lenses
