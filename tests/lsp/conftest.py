"""pytest-lsp fixtures: `memlens serve` driven over stdio with the capabilities of VS Code.

The pytest-lsp 1.0.1 snapshot of VS Code is 1.65; the VS Code client (vscode-languageclient 11 on
VS Code >= 1.91) also advertises LSP 3.17 pull diagnostics, inlay hints and their refresh
requests, so `vscode_capabilities()` adds those to the snapshot.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient

FIXTURES = Path(__file__).parent / "fixtures"
SERVER = [sys.executable, "-m", "memlens", "serve"]


def vscode_capabilities(pull: bool = True) -> types.ClientCapabilities:
    caps = pytest_lsp.client_capabilities("visual-studio-code")
    caps.general = caps.general or types.GeneralClientCapabilities()
    caps.general.position_encodings = [types.PositionEncodingKind.Utf16]
    td, ws = caps.text_document, caps.workspace
    td.inlay_hint = types.InlayHintClientCapabilities(dynamic_registration=True)
    ws.inlay_hint = types.InlayHintWorkspaceClientCapabilities(refresh_support=True)
    ws.code_lens = types.CodeLensWorkspaceClientCapabilities(refresh_support=True)
    if pull:
        td.diagnostic = types.DiagnosticClientCapabilities(dynamic_registration=True,
                                                           related_document_support=False)
        ws.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    return caps


def make_client() -> LanguageClient:
    client = pytest_lsp.make_test_lsp_client()
    client.refreshes = {"inlay": 0, "lens": 0}  # diagnostics: diagnostic_refresh_count

    @client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_refresh(ls, params):
        ls.refreshes["inlay"] += 1

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(ls, params):
        ls.refreshes["lens"] += 1

    client.published = []  # every publishDiagnostics: (uri, version, diagnostics)
    features = client.protocol.fm.features
    store = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams):
        client.published.append((params.uri, params.version, list(params.diagnostics)))
        return store(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(ls, params):
        return None

    return client


CONFIG = ClientServerConfig(server_command=SERVER, client_factory=make_client)


def make_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES, root)
    return root


def uri_of(path: Path) -> str:
    return from_fs_path(str(path))


async def start(client: LanguageClient, root: Path, *, pull: bool = True,
                settings: dict | None = None, capabilities=None,
                trusted: bool | None = None) -> None:
    options = {"settings": {"debounceMs": 0, **(settings or {})}}
    if trusted is not None:
        options["workspaceTrusted"] = trusted
    client.set_configuration({"memlens": options["settings"]})
    client.initialize_result = await client.initialize_session(types.InitializeParams(
        capabilities=capabilities or vscode_capabilities(pull=pull),
        root_uri=uri_of(root),
        workspace_folders=[types.WorkspaceFolder(uri=uri_of(root), name="ws")],
        initialization_options=options,
    ))


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, tmp_path):
    """VS Code capabilities, pull diagnostics (what vscode-languageclient 11 uses)."""
    lsp_client.root = make_workspace(tmp_path)
    await start(lsp_client, lsp_client.root, pull=True)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def push_client(lsp_client: LanguageClient, tmp_path):
    """The VS Code 1.65 snapshot as is: no pull diagnostics, so the server pushes."""
    lsp_client.root = make_workspace(tmp_path)
    await start(lsp_client, lsp_client.root, pull=False)
    yield
    await lsp_client.shutdown_session()


def open_doc(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = uri_of(path)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=version,
            text=path.read_text() if text is None else text)))
    return uri


def change_doc(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def pull(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    return list(report.items)


async def wait_pushed(client: LanguageClient, uri: str, predicate=lambda d: True,
                      timeout: float = 15.0) -> list[types.Diagnostic]:
    """Wait until the diagnostics pushed for `uri` satisfy `predicate`."""
    async def loop():
        while True:
            if uri in client.diagnostics and predicate(client.diagnostics[uri]):
                return list(client.diagnostics[uri])
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(loop(), timeout)


def profiler_available() -> bool:
    try:
        from memlens.profiler import profile_function  # noqa: F401
    except ImportError:
        return False
    return True


def numpy_available() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


needs_profiler = pytest.mark.skipif(not profiler_available(),
                                    reason="memlens.profiler has not landed yet")
needs_numpy = pytest.mark.skipif(not numpy_available(), reason="numpy is not installed")
