// Pure (no `vscode` import): the extension settings that the language server reads.
// Sent as `initializationOptions` and answered to `workspace/configuration` for section "memlens".

export interface ServerSettings {
  /** Interpreter that runs profiled code (see launch.resolveProfileInterpreter). */
  interpreter?: string;
  /** Left out when empty, so that the project's `[tool.memlens]` selection applies. */
  select?: string[];
  ignore?: string[];
  profile: {
    timeoutSeconds: number;
    /** null: no limit. */
    memoryLimitMb: number | null;
    hotLineThresholdMb: number;
  };
}

export const DEFAULTS = {
  timeoutSeconds: 300,
  memoryLimitMb: 0,
  hotLineThresholdMb: 50,
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
  const memoryLimit = number(get('profile.memoryLimitMb'), DEFAULTS.memoryLimitMb, 0);
  const select = ruleList(get('select'));
  const ignore = ruleList(get('ignore'));
  return {
    ...(interpreter ? { interpreter } : {}),
    ...(select.length > 0 ? { select } : {}),
    ...(ignore.length > 0 ? { ignore } : {}),
    profile: {
      timeoutSeconds: number(get('profile.timeoutSeconds'), DEFAULTS.timeoutSeconds, 1),
      memoryLimitMb: memoryLimit > 0 ? memoryLimit : null,
      hotLineThresholdMb: number(get('profile.hotLineThresholdMb'), DEFAULTS.hotLineThresholdMb, 0),
    },
  };
}

/** Settings whose change needs the server restarted (the others are pushed as configuration). */
export const RESTART_SETTINGS = ['memlens.interpreter', 'memlens.serverCommand'];
