"""The short fuzz run of `make test`: 200 documents with the harness's fixed seed, then 5
edit-and-undo documents (the long run of 10,000 documents and 60 edit-and-undo ones is
`python -m tests.fuzz.harness`)."""

from __future__ import annotations

from .harness import run

DOCUMENTS = 200
UNDOS = 5
SEED = 20261204


def test_two_hundred_fuzzed_documents():
    figures = run(DOCUMENTS, SEED, out=None, undos=UNDOS)
    assert figures.documents == DOCUMENTS and figures.requests > DOCUMENTS
    assert figures.undone == UNDOS
    assert figures.clean, f"{figures.report()}\n" + "\n".join(figures.failures[:20])
