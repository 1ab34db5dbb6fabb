// Pure (no `vscode` import): the extension settings that the language server reads.
// Sent as `initializationOptions` and answered to `workspace/configuration` for section "memlens".

export interface ServerSettings {
  /** Interpreter that runs profiled code (see launch.resolveProfileInterpreter). */
  interpreter?: string;
  /** Left out when empty, so that the project's `[tool.memlens]` selection applies. */
  select?: string[];
  ignore?: string[];
  checkTimeoutSeconds: number;
  profile: {
    timeoutSeconds: number;
    /** null: no limit. */
    memoryLimitMb: number | null;
    hotLineThresholdMb: number;
  };
}

/**
 * Every setting this client sends to the server: `memlens.<key>` in package.json, read by the
 * server under the same key (server/memlens/lsp/settings.py, KEYS), each number with its default
 * and least value as package.json declares them. tests/lsp/test_settings.py holds the three
 * tables in step; mapSettings sends exactly these (client/test/settings.test.ts).
 */
export const SENT = {
  interpreter: { kind: 'path' },
  select: { kind: 'rules' },
  ignore: { kind: 'rules' },
  checkTimeoutSeconds: { kind: 'number', default: 20, min: 0 },
  'profile.timeoutSeconds': { kind: 'number', default: 300, min: 1 },
  'profile.memoryLimitMb': { kind: 'number', default: 0, min: 0 },
  'profile.hotLineThresholdMb': { kind: 'number', default: 50, min: 0 },
} as const;

/** The package.json settings the client reads itself and never sends (how to start the server,
 * what to log). */
export const CLIENT_ONLY = ['serverCommand', 'trace.server'] as const;

type NumberSetting = {
  [K in keyof typeof SENT]: (typeof SENT)[K] extends { kind: 'number' } ? K : never;
}[keyof typeof SENT];

export const DEFAULTS = {
  checkTimeoutSeconds: SENT.checkTimeoutSeconds.default,
  timeoutSeconds: SENT['profile.timeoutSeconds'].default,
  memoryLimitMb: SENT['profile.memoryLimitMb'].default,
  hotLineThresholdMb: SENT['profile.hotLineThresholdMb'].default,
};

/** `get(key)` returns the value of `memlens.<key>` (a WorkspaceConfiguration.get, or a test stub). */
export type SettingGetter = (key: string) => unknown;

function ruleList(value: unknown): string[] {
  if (typeof value === 'string') value = value.split(/[\s,]+/);
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string') continue;
    const id = item.trim().toUpperCase();
    if (id !== '' && !out.includes(id)) out.push(id);
  }
  return out;
}

function number(value: unknown, fallback: number, min: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min) return fallback;
  return n;
}

export function mapSettings(get: SettingGetter, interpreter?: string): ServerSettings {
  const setting = (key: NumberSetting) => number(get(key), SENT[key].default, SENT[key].min);
  const memoryLimit = setting('profile.memoryLimitMb');
  const select = ruleList(get('select'));
  const ignore = ruleList(get('ignore'));
  return {
    ...(interpreter ? { interpreter } : {}),
    ...(select.length > 0 ? { select } : {}),
    ...(ignore.length > 0 ? { ignore } : {}),
    checkTimeoutSeconds: setting('checkTimeoutSeconds'),
    profile: {
      timeoutSeconds: setting('profile.timeoutSeconds'),
      memoryLimitMb: memoryLimit > 0 ? memoryLimit : null,
      hotLineThresholdMb: setting('profile.hotLineThresholdMb'),
    },
  };
}

/** Settings whose change needs the server restarted (the others are pushed as configuration). */
export const RESTART_SETTINGS = ['memlens.interpreter', 'memlens.serverCommand'];
