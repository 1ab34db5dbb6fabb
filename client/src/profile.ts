// Pure (no `vscode` import): the "Profile memory" flow's logic, kept testable.

/** Arguments of the server command `memlens.profileFunction`. */
export interface ProfileArgs {
  uri: string;
  qualname: string;
  /** Line of the `def` (as the server sends it). */
  line: number;
  call?: string;
  entry?: string;
  /** Set by the server's lenses: the function needs a call expression to be profiled. */
  needsCall?: boolean;
  [key: string]: unknown;
}

export interface ProfileLine {
  line: number;
  increment_mib?: number;
  [key: string]: unknown;
}

export interface ProfileResult {
  status: string;
  peak_mib?: number | null;
  duration_s?: number | null;
  lines?: ProfileLine[];
  /** `kind` is what went wrong (server/memlens/profiler/result.py, ErrorKind); the rest is for people. */
  error?: { kind?: string; type?: string; message?: string; traceback?: string } | null;
  [key: string]: unknown;
}

export const PROFILE_COMMAND = 'memlens.profileFunction';

export function isProfileArgs(value: unknown): value is ProfileArgs {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.uri === 'string' && typeof v.qualname === 'string';
}

/** Key under which the call expression of one function is remembered (workspace state). */
export function callKey(uri: string, qualname: string): string {
  return `memlens.call:${uri}#${qualname}`;
}

export interface Param {
  name: string;
  kind: 'positional' | 'keyword' | 'varargs' | 'varkw';
  hasDefault: boolean;
  /** The default value's source text, when there is one. */
  defaultText?: string;
  text: string;
}

/** Splits a parameter list on top-level commas. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      current += ch;
      if (ch === '\\') {
        current += text[++i] ?? '';
      } else if (ch === quote) {
        quote = null;
      }
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim() !== '') parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

export interface FunctionHeader {
  name: string;
  params: Param[];
  /** 0-based line of the `def`. */
  line: number;
}

/**
 * Finds the `def` of the function `qualname` at or near `line` (either base) and parses its
 * parameters. Returns undefined when no such `def` is found.
 */
export function findFunctionHeader(source: string, qualname: string, line?: number): FunctionHeader | undefined {
  const name = qualname.split('.').pop() ?? qualname;
  const lines = source.split(/\r?\n/);
  const defRe = new RegExp(`^\\s*(?:async\\s+)?def\\s+${name.replace(/[$]/g, '\\$')}\\s*\\(`);
  const candidates: number[] = [];
  lines.forEach((text, i) => {
    if (defRe.test(text)) candidates.push(i);
  });
  if (candidates.length === 0) return undefined;
  const target = line ?? 0;
  candidates.sort((a, b) => Math.abs(a - target) - Math.abs(b - target));
  const start = candidates[0];
  // Collect the text between the opening parenthesis and its match.
  const rest = lines.slice(start).join('\n');
  const open = rest.indexOf('(');
  let depth = 0;
  let quote: string | null = null;
  let end = -1;
  for (let i = open; i < rest.length; i++) {
    const ch = rest[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0) {
        end = i;
        break;
      }
    }
  }
  if (end < 0) return undefined;
  const inner = rest
    .slice(open + 1, end)
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join(' ');
  const params: Param[] = [];
  let keywordOnly = false;
  for (const raw of splitTopLevel(inner)) {
    if (raw === '/') continue;
    if (raw === '*') {
      keywordOnly = true;
      continue;
    }
    const eq = raw.startsWith('*') ? -1 : raw.indexOf('=');
    const hasDefault = eq >= 0;
    const defaultText = hasDefault ? raw.slice(eq + 1).trim() : undefined;
    const bare = (hasDefault ? raw.slice(0, eq) : raw).replace(/:.*$/s, '').trim();
    if (bare.startsWith('**')) {
      params.push({ name: bare.slice(2), kind: 'varkw', hasDefault: false, text: raw });
    } else if (bare.startsWith('*')) {
      params.push({ name: bare.slice(1), kind: 'varargs', hasDefault: false, text: raw });
      keywordOnly = true;
    } else {
      params.push({ name: bare, kind: keywordOnly ? 'keyword' : 'positional', hasDefault, defaultText, text: raw });
    }
  }
  return { name, params, line: start };
}

function isMethod(qualname: string, params: Param[]): boolean {
  return qualname.includes('.') && params.length > 0 && ['self', 'cls'].includes(params[0].name);
}

/**
 * The call expression the input box is pre-filled with: the function's name and its signature's
 * parameters, e.g. `train(model, X, y=None)`. Methods are called on a fresh instance:
 * `Trainer().fit(X)`.
 */
export function callTemplate(qualname: string, header: FunctionHeader | undefined): string {
  const parts = qualname.split('.');
  const callee = parts.length > 1 ? `${parts.slice(0, -1).join('.')}().${parts[parts.length - 1]}` : qualname;
  if (!header) return `${callee}()`;
  const params = isMethod(qualname, header.params) ? header.params.slice(1) : header.params;
  const args = params
    .filter((p) => p.kind === 'positional' || p.kind === 'keyword')
    .map((p) => (p.hasDefault ? `${p.name}=${p.defaultText}` : p.kind === 'keyword' ? `${p.name}=${p.name}` : p.name));
  return `${callee}(${args.join(', ')})`;
}

/**
 * Whether to ask for a call expression before the first run: the server's lens says so (it
 * knows the signature and whether the file has a `__main__` block). Without the flag the run
 * goes ahead, and a `needs_call` answer asks then.
 */
export function needsCallExpression(args: ProfileArgs): boolean {
  if (args.call || args.entry) return false;
  return args.needsCall === true;
}

/** The server could not run the function without a call expression. */
export function asksForCall(result: ProfileResult): boolean {
  return result.error?.kind === 'needs_call';
}

export function formatMiB(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '?';
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function summarize(qualname: string, result: ProfileResult): string {
  const duration = typeof result.duration_s === 'number' ? ` in ${result.duration_s.toFixed(2)} s` : '';
  switch (result.status) {
    case 'ok':
      return `${qualname}: peak ${formatMiB(result.peak_mib)} MiB${duration}`;
    case 'cancelled':
      return `${qualname}: profile cancelled`;
    case 'timeout':
      return `${qualname}: the profile run timed out${duration}`;
    case 'memory_limit':
      return `${qualname}: the profile run passed the memory limit (peak ${formatMiB(result.peak_mib)} MiB)`;
    case 'raised':
      return `${qualname} raised ${result.error?.type ?? 'an exception'}: ${result.error?.message ?? ''}`.trim();
    case 'not_found':
      return `${qualname}: not found (${result.error?.message ?? 'the function could not be located'})`;
    case 'setup_error':
      return `${qualname}: could not set up the run: ${result.error?.message ?? 'unknown error'}`;
    default:
      return `${qualname}: ${result.error?.message ?? result.status}`;
  }
}

/** Text for the Output channel: the summary, the hottest lines, and the traceback if any. */
export function report(qualname: string, result: ProfileResult): string {
  const out = [`[profile] ${summarize(qualname, result)}`];
  const hot = [...(result.lines ?? [])]
    .filter((l) => typeof l.increment_mib === 'number')
    .sort((a, b) => (b.increment_mib ?? 0) - (a.increment_mib ?? 0))
    .slice(0, 5);
  for (const l of hot) {
    const inc = l.increment_mib ?? 0;
    out.push(`  line ${l.line}: ${inc < 0 ? '-' : '+'}${formatMiB(Math.abs(inc))} MiB`);
  }
  if (result.error?.traceback) out.push(result.error.traceback.trimEnd());
  return out.join('\n');
}

export function isFailure(result: ProfileResult): boolean {
  return !['ok', 'cancelled'].includes(result.status);
}
