// Pure (no `vscode` import): which command starts the memlens language server.
// Order: memlens.serverCommand, memlens.interpreter, the Python extension's active interpreter,
// then `python3` on PATH.

export type LaunchSource =
  | 'memlens.serverCommand'
  | 'memlens.interpreter'
  | 'python-extension'
  | 'PATH';

export interface ServerLaunch {
  /** Executable to spawn. */
  command: string;
  args: string[];
  source: LaunchSource;
  /** The Python interpreter, when the server is started as `<python> -m memlens serve`. */
  python?: string;
}

export interface LaunchInputs {
  /** `memlens.serverCommand`: an argv array (a plain string is split on whitespace). */
  serverCommand?: unknown;
  /** `memlens.interpreter`. */
  interpreter?: unknown;
  /** Path of the Python extension's active interpreter, if that extension is installed. */
  activeInterpreter?: string;
  /** Used to expand `${workspaceFolder}`. */
  workspaceFolder?: string;
  /** Used to expand `~` and `${userHome}`. */
  home?: string;
  /** Fallback interpreter name, `python3` unless a test says otherwise. */
  defaultPython?: string;
}

export const SERVER_MODULE_ARGS = ['-m', 'memlens', 'serve'];

/** Expands `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and a leading `~`. */
export function expandVariables(
  value: string,
  ctx: { workspaceFolder?: string; home?: string; env?: Record<string, string | undefined> } = {},
): string {
  let out = value.trim();
  if (ctx.home && (out === '~' || out.startsWith('~/'))) {
    out = ctx.home + out.slice(1);
  }
  out = out.replace(/\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (whole, name, envName) => {
    if (name === 'workspaceFolder') return ctx.workspaceFolder ?? whole;
    if (name === 'userHome') return ctx.home ?? whole;
    return (ctx.env ?? {})[envName] ?? '';
  });
  return out;
}

function asArgv(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  }
  if (typeof value === 'string') {
    return value.split(/\s+/).filter((v) => v !== '');
  }
  return [];
}

function asPath(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function resolveServerLaunch(inputs: LaunchInputs): ServerLaunch {
  const ctx = { workspaceFolder: inputs.workspaceFolder, home: inputs.home, env: process.env };
  const argv = asArgv(inputs.serverCommand).map((a) => expandVariables(a, ctx));
  if (argv.length > 0) {
    return { command: argv[0], args: argv.slice(1), source: 'memlens.serverCommand' };
  }
  const configured = asPath(inputs.interpreter);
  if (configured) {
    const python = expandVariables(configured, ctx);
    return { command: python, args: [...SERVER_MODULE_ARGS], source: 'memlens.interpreter', python };
  }
  const active = asPath(inputs.activeInterpreter);
  if (active) {
    return { command: active, args: [...SERVER_MODULE_ARGS], source: 'python-extension', python: active };
  }
  const python = inputs.defaultPython ?? 'python3';
  return { command: python, args: [...SERVER_MODULE_ARGS], source: 'PATH', python };
}

/**
 * The interpreter that runs profiled code, sent to the server as `interpreter`: the same order
 * without memlens.serverCommand. Undefined when only `python3` on PATH is left: the server then
 * profiles with its own interpreter, which at least has memlens.
 */
export function resolveProfileInterpreter(inputs: LaunchInputs): string | undefined {
  const launch = resolveServerLaunch({ ...inputs, serverCommand: undefined });
  return launch.source === 'PATH' ? undefined : launch.python;
}

export function describeSource(source: LaunchSource): string {
  switch (source) {
    case 'memlens.serverCommand':
      return 'the memlens.serverCommand setting';
    case 'memlens.interpreter':
      return 'the memlens.interpreter setting';
    case 'python-extension':
      return "the Python extension's selected interpreter";
    case 'PATH':
      return 'python3 on PATH';
  }
}

/** Python run by `<python> -c PROBE_SCRIPT`: prints one JSON line saying whether memlens is importable. */
export const PROBE_SCRIPT = [
  'import json, sys',
  'out = {"python": sys.executable, "version": sys.version.split()[0]}',
  'try:',
  '    import memlens',
  '    out["memlens"] = getattr(memlens, "__version__", "?")',
  'except Exception as exc:',
  '    out["error"] = f"{type(exc).__name__}: {exc}"',
  'print(json.dumps(out))',
].join('\n');

export interface ProbeResult {
  python?: string;
  version?: string;
  memlens?: string;
  error?: string;
}

export function parseProbeOutput(stdout: string): ProbeResult | undefined {
  const lines = stdout.trim().split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const parsed = JSON.parse(lines[i]);
      if (parsed && typeof parsed === 'object') return parsed as ProbeResult;
    } catch {
      // not the JSON line
    }
  }
  return undefined;
}

/** argv that pip-installs the bundled wheel (dependencies from the package index). */
export function pipInstallArgs(wheel: string): string[] {
  return ['-m', 'pip', 'install', '--disable-pip-version-check', '--upgrade', wheel];
}
