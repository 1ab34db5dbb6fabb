"""`memlens serve`: the language server adapting the engine and the profiler to LSP.

Modules: `cli` (arguments), `server` (lifecycle, documents, settings, diagnostics), `settings`,
`analysis` (debounced analysis), `check_process` and `check_worker` (the engine runs in a process
of its own), `engines`, `incremental` (re-check only the touched blocks),
`convert` (engine positions -> LSP), `actions`, `hover`, `lenses`, `functions`, `inlay`,
`profiling`, `store` (profile results per document), `hotlines`, `present`, `workspace_check`.
"""
