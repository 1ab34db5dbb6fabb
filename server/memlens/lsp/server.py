"""The language server: lifecycle, documents, settings and diagnostics; features live in their
own modules (actions, hover, lenses, inlay, profiling, workspace_check), each `register(server)`.

Startup is kept cheap: the engine (ast-grep, YAML rules) is imported and built in the analysis
worker after `initialized`, so `initialize` is answered as soon as pygls itself is loaded.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from memlens import __version__
from memlens.lsp import convert, notebooks, settings
from memlens.lsp.analysis import Analyzer
from memlens.lsp.boundary import TRUST_NOTIFICATION, Boundary, trust_from
from memlens.lsp.document import DOCUMENT_TEXT_REQUEST, use_lsp_line_model
from memlens.lsp.functions import FunctionIndex
from memlens.lsp.protocol import MemlensProtocol
from memlens.lsp.store import ProfileStore

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)

class MemlensServer(LanguageServer):
    def __init__(self, early=None):
        super().__init__("memlens", __version__, protocol_cls=MemlensProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=notebooks.SYNC, max_workers=4)
        self.init_options: dict = {}
        self.raw_settings: dict = {}
        self.editor_settings = settings.EditorSettings()
        self.encoder = convert.Encoder("utf-16")
        self.diagnostic_mode = "push"
        # bootstrap.EarlyChecks: the checker process the bootstrap started, with a head start
        self.early = early
        self.analyzer = Analyzer(self, early.checks if early is not None else None)
        self.notebooks = notebooks.Notebooks(self)  # the open notebooks (lsp/notebooks.py)
        self.root: str | None = None
        self.boundary = Boundary()  # the workspace folders and trust: what may be run
        self.profiles = ProfileStore()  # the profile runs shown in open files
        self.functions = FunctionIndex()  # the functions a lens can profile, per open file
        self.workspace_pushed: set[str] = set()  # URIs that memlens.checkWorkspace published
        self.cancel_events: dict = {}  # executeCommand request id -> threading.Event
        self._config_problems: tuple[str, ...] = ()
        self._measure_store = None  # engine/measure_store.py: profile runs kept across restarts
        self._loop: asyncio.AbstractEventLoop | None = None  # set on `initialize`

    def report_server_error(self, error: Exception, source) -> None:
        """Protocol errors (a body that is not JSON, a message of no known shape) are logged in
        one line, never shown as a popup: the editor's user did nothing wrong."""
        from pygls.exceptions import JsonRpcException

        if isinstance(error, (JsonRpcException, ValueError)) or source is JsonRpcException:
            log.warning("protocol error (%s): %s", type(error).__name__,
                        str(error).splitlines()[0][:200] if str(error) else "")
            return
        super().report_server_error(error, source)

    # -- helpers used by the feature modules ----------------------------------------------

    def open_document(self, uri: str):
        """The open document at `uri`, or None (never a document read from disk)."""
        try:
            docs = self.workspace.text_documents
        except RuntimeError:  # before initialize
            return None
        from urllib.parse import unquote

        return docs.get(unquote(uri))

    def capability(self, path: str) -> Any:
        node: Any = self.client_capabilities
        for part in path.split("."):
            node = getattr(node, part, None)
            if node is None:
                return None
        return node

    def log(self, message: str, error: bool = False) -> None:
        try:
            self.window_log_message(types.LogMessageParams(
                type=types.MessageType.Error if error else types.MessageType.Log,
                message=message))
        except Exception:  # no transport (tests) or closing down
            log.info("%s", message)

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        try:
            self.window_show_message(types.ShowMessageParams(type=kind, message=message))
        except Exception:
            log.warning("%s", message)

    def notify_raw(self, method: str, params: dict) -> None:
        """Send a notification whose params are already JSON-ready dicts (no cattrs pass)."""
        if method == types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS and self.early is not None:
            self.early.claim(params.get("uri"))  # the bootstrap publishes nothing after this
        send = getattr(self.protocol, "_send_data", None)
        if send is None:  # a future pygls: take the slow, public road
            self.protocol.notify(method, params)
            return
        send({"jsonrpc": "2.0", "method": method, "params": params})

    def path_of(self, uri: str) -> str | None:
        try:
            return to_fs_path(uri)
        except Exception:
            return None

    # -- profile results kept across restarts ---------------------------------------------

    def measure_store(self):
        if self._measure_store is None:
            from memlens.engine.measure_store import MeasureStore

            self._measure_store = MeasureStore()
        return self._measure_store

    def restore_profiles(self, uri: str) -> None:
        """The profile runs kept for the file of `uri` in an earlier session, read off the event
        loop and then shown (those whose function has not changed since)."""
        path = self.path_of(uri) if uri.startswith("file:") else None
        loop = getattr(self, "_loop", None)
        if not path or path.lower().endswith(".ipynb") or loop is None:
            return

        def restored(future) -> None:
            try:
                results = future.result()
            except Exception as exc:
                log.warning("cannot read the kept profile results: %s", exc)
                return
            if results and self.open_document(uri) is not None and \
                    self.profiles.restore(uri, results):
                self.refresh_views()
                self.refresh_diagnostics(uri)

        loop.run_in_executor(None, self.measure_store().results_for, path) \
            .add_done_callback(restored)

    # -- settings and the engine ----------------------------------------------------------

    def apply_settings(self, raw: Any, rebuild: bool = True) -> None:
        before = getattr(self, "editor_settings", None)
        self.raw_settings = settings.merge(self.init_options, raw) if raw else dict(
            self.init_options)
        self.editor_settings = settings.parse(self.raw_settings)
        # The configuration the client answers right after start-up usually repeats the
        # initialization options: building the engine again would check every file twice.
        if rebuild and (self.editor_settings != before or self.analyzer.engine_future is None):
            self.rebuild_engine()

    def rebuild_engine(self, reread: bool = True) -> None:
        root, editor = self.root, self.editor_settings
        trusted = self.boundary.trusted is not False

        def build():
            from memlens.lsp.engines import Workspace

            return Workspace(root, editor, trusted)

        self.analyzer.set_engine_builder(build, root, editor, trusted, reread=reread)
        self.analyzer.reanalyse_all()

    def report_problems(self, problems: tuple[str, ...]) -> None:
        """What the checker process found wrong with the configuration: shown once (a bad
        selector, a broken rule file, an untrusted workspace's rule folders left out)."""
        if problems and problems != self._config_problems:
            for problem in problems:
                if problem not in self._config_problems:
                    self.protocol_call_soon(self.show, problem)
        self._config_problems = problems

    def protocol_call_soon(self, fn, *args) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None:
            loop.call_soon_threadsafe(fn, *args)

    async def pull_configuration(self) -> None:
        if not self.capability("workspace.configuration"):
            return
        try:
            answer = await self.workspace_configuration_async(types.ConfigurationParams(
                items=[types.ConfigurationItem(section="memlens")]))
        except Exception as exc:
            log.warning("workspace/configuration failed: %s", exc)
            return
        if answer and isinstance(answer[0], dict):
            self.apply_settings(answer[0])

    # -- diagnostics ----------------------------------------------------------------------

    def diagnostics_for(self, uri: str) -> list[dict]:
        result = self.analyzer.results.get(uri)
        if result is None:
            return []
        if not self.profiles.has(uri):
            return result.diagnostics
        from memlens.lsp import hotlines

        return hotlines.overlay(self, result)

    def on_analysis(self, result) -> None:
        cells = getattr(result, "changed", None)
        if cells is not None:
            # a notebook: the cells whose text or diagnostics changed, pushed whatever the mode
            # (lsp/notebooks.py says why)
            for uri in cells:
                self.publish(uri)
        elif self.diagnostic_mode == "push":
            self.publish(result.uri)
        elif result.settled and self.capability("workspace.diagnostics.refresh_support"):
            self.workspace_diagnostic_refresh(None)  # a pull client: pull the corrected view

    def publish(self, uri: str) -> None:
        result = self.analyzer.results.get(uri)
        if result is None or getattr(result, "cells", None) is not None:
            return  # (a notebook's diagnostics are its cells')
        diagnostics = self.diagnostics_for(uri)
        if self.early is not None and \
                self.early.claim(uri) == (result.version, diagnostics):
            return  # the bootstrap published these already (`bootstrap.EarlyChecks`)
        self.analyzer.counters.published += 1
        self.notify_raw(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, {
            "uri": uri, "version": result.version, "diagnostics": diagnostics})

    def refresh_diagnostics(self, uri: str | None = None) -> None:
        """After a profile run or a settings change: push again, or ask a pull client to pull."""
        if self.diagnostic_mode == "push":
            for u in [uri] if uri else list(self.analyzer.results):
                self.publish(u)
        elif self.capability("workspace.diagnostics.refresh_support"):
            self.workspace_diagnostic_refresh(None)

    def settings_changed(self) -> None:
        """New settings (or a new pyproject.toml) are applied and the open files re-checked:
        a pull client is asked to pull again (its pull waits for the re-check); a push client
        gets each re-checked file published as the re-check finishes (`on_analysis`)."""
        if self.diagnostic_mode == "pull" and \
                self.capability("workspace.diagnostics.refresh_support"):
            self.workspace_diagnostic_refresh(None)
        self.refresh_views()

    def refresh_views(self) -> None:
        if self.capability("workspace.inlay_hint.refresh_support"):
            self.workspace_inlay_hint_refresh(None)
        if self.capability("workspace.code_lens.refresh_support"):
            self.workspace_code_lens_refresh(None)


def create_server(early=None) -> MemlensServer:
    server = MemlensServer(early)
    _register_core(server)
    from memlens.lsp import actions, hover, inlay, lenses, profiling, workspace_check

    for module in (actions, hover, lenses, inlay, profiling, workspace_check, notebooks):
        module.register(server)
    return server


def _choose_mode(server: MemlensServer) -> str:
    wanted = server.editor_settings.diagnostic_mode
    if wanted in ("push", "pull"):
        return wanted
    # Pull only where the client both pulls and can be asked to pull again (after a profile
    # run); a client that also got pushes would show every diagnostic twice.
    pulls = server.capability("text_document.diagnostic") is not None
    refresh = bool(server.capability("workspace.diagnostics.refresh_support"))
    return "pull" if pulls and refresh else "push"


def _register_core(server: MemlensServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: MemlensServer, params: types.InitializeParams):
        import asyncio

        ls._loop = asyncio.get_running_loop()
        use_lsp_line_model(ls.workspace)  # lines end at \r\n, \r or \n only, as in LSP
        ls.init_options = settings.unwrap(params.initialization_options)
        ls.apply_settings(None, rebuild=False)
        encoding = ls.workspace.position_encoding or "utf-16"
        ls.encoder = convert.Encoder(encoding)
        folders = params.workspace_folders or []
        root_uri = folders[0].uri if folders else params.root_uri
        ls.root = (to_fs_path(root_uri) if root_uri else params.root_path) or None
        ls.boundary.trusted = trust_from(params.initialization_options)
        ls.boundary.set_folders([ls.path_of(f.uri) for f in folders] or [ls.root])
        ls.diagnostic_mode = _choose_mode(ls)
        if ls.diagnostic_mode == "push":
            # do not advertise pull at all: clients that pull too would show duplicates
            ls.protocol.fm.features.pop(types.TEXT_DOCUMENT_DIAGNOSTIC, None)
            ls.protocol.fm.feature_options.pop(types.TEXT_DOCUMENT_DIAGNOSTIC, None)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: MemlensServer, params: types.InitializedParams):
        # the checker process may have started already (bootstrap.EarlyChecks), configured from
        # the same initialize request: what it checked meanwhile stays
        ls.rebuild_engine(reread=False)
        if ls.early is not None:
            ls.early.stop()
        if ls.capability("workspace.did_change_watched_files.dynamic_registration"):
            try:
                await ls.client_register_capability_async(types.RegistrationParams(
                    registrations=[types.Registration(
                        id="memlens-pyproject",
                        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                        register_options=types.DidChangeWatchedFilesRegistrationOptions(
                            watchers=[types.FileSystemWatcher(glob_pattern="**/pyproject.toml")]),
                    )]))
            except Exception as exc:
                log.warning("cannot watch pyproject.toml: %s", exc)
        await ls.pull_configuration()

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: MemlensServer, params):
        ls.profiles.cancel_all()
        ls.analyzer.shutdown()

    @server.feature(types.EXIT)
    def exit_(ls: MemlensServer, params):
        # (after `shutdown`, done already; without it, the process ends now too, and its
        # profile runs and checker process with it; pygls then exits with code 1)
        ls.profiles.cancel_all()
        ls.analyzer.shutdown()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MemlensServer, params: types.DidOpenTextDocumentParams):
        uri = params.text_document.uri
        if uri in ls.workspace_pushed and ls.diagnostic_mode == "pull":
            # the workspace check pushed these; the pull from now on must not double them
            ls.workspace_pushed.discard(uri)
            ls.notify_raw(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, {"uri": uri, "diagnostics": []})
        ls.analyzer.opened(uri, params.text_document.version)
        ls.restore_profiles(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MemlensServer, params: types.DidChangeTextDocumentParams):
        ls.analyzer.changed(params.text_document.uri, params.text_document.version)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MemlensServer, params: types.DidSaveTextDocumentParams):
        if ls.open_document(params.text_document.uri) is not None:
            ls.analyzer.schedule(params.text_document.uri, immediate=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MemlensServer, params: types.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        ls.analyzer.closed(uri)
        ls.functions.drop(uri)
        if ls.diagnostic_mode == "push":
            ls.notify_raw(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, {"uri": uri, "diagnostics": []})

    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
        identifier="memlens", inter_file_dependencies=False, workspace_diagnostics=False))
    async def pull_diagnostics(ls: MemlensServer, params: types.DocumentDiagnosticParams):
        uri = params.text_document.uri
        doc = ls.open_document(uri)
        if doc is None:
            return {"kind": "full", "items": []}
        if ls.notebooks.owner(uri) is not None:  # a notebook's cell: pushed (lsp/notebooks.py)
            if params.previous_result_id == notebooks.PULLED:
                return {"kind": "unchanged", "resultId": notebooks.PULLED}
            return {"kind": "full", "resultId": notebooks.PULLED, "items": []}
        result = await ls.analyzer.wait_for(uri, doc.version)
        if result is None:
            return {"kind": "full", "items": []}
        profile_stamp = ls.profiles.stamp(uri)
        result_id = f"{result.version}.{result.serial}.{profile_stamp}"
        if params.previous_result_id == result_id:
            return {"kind": "unchanged", "resultId": result_id}
        return {"kind": "full", "resultId": result_id, "items": ls.diagnostics_for(uri)}

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: MemlensServer,
                                       params: types.DidChangeConfigurationParams):
        pushed = params.settings
        if isinstance(pushed, dict) and pushed.get("memlens") is not None:
            ls.apply_settings(pushed["memlens"])
        elif ls.capability("workspace.configuration"):
            await ls.pull_configuration()
        else:
            ls.apply_settings(pushed if isinstance(pushed, dict) else None)
        ls.settings_changed()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(ls: MemlensServer,
                                     params: types.DidChangeWorkspaceFoldersParams):
        removed = {os.path.realpath(ls.path_of(f.uri) or "") for f in params.event.removed}
        added = [ls.path_of(f.uri) for f in params.event.added]
        ls.boundary.set_folders([p for p in ls.boundary.folders if p not in removed] + added)

    @server.feature(DOCUMENT_TEXT_REQUEST)
    def document_text(ls: MemlensServer, params):
        """The server's copy of an open document (for tests and fuzzing: after every edit it
        must equal the editor's)."""
        uri = getattr(params, "uri", None)
        if uri is None and isinstance(params, dict):
            uri = params.get("uri")
        doc = ls.open_document(uri) if isinstance(uri, str) else None
        return None if doc is None else {"version": doc.version, "text": doc.source}

    @server.feature(TRUST_NOTIFICATION)
    def workspace_trust(ls: MemlensServer, params):
        trusted = getattr(params, "trusted", None)
        if trusted is None and isinstance(params, dict):
            trusted = params.get("trusted")
        if not isinstance(trusted, bool) or trusted == ls.boundary.trusted:
            return
        ls.boundary.trusted = trusted
        ls.rebuild_engine()  # the workspace's rule-dirs come or go
        ls.settings_changed()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: MemlensServer, params: types.DidChangeWatchedFilesParams):
        if any(Path(ls.path_of(c.uri) or c.uri).name == "pyproject.toml" for c in params.changes):
            ls.rebuild_engine()
            ls.settings_changed()
