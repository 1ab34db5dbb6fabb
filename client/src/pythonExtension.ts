// The Python extension's (ms-python.python) environments API, when it is installed.
import * as vscode from 'vscode';

interface EnvironmentPath {
  id: string;
  path: string;
}

interface ResolvedEnvironment {
  executable?: { uri?: vscode.Uri };
}

interface EnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri | vscode.WorkspaceFolder): EnvironmentPath;
  resolveEnvironment?(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
  onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
}

export const PYTHON_EXTENSION_ID = 'ms-python.python';

export function isPythonExtensionInstalled(): boolean {
  return vscode.extensions.getExtension(PYTHON_EXTENSION_ID) !== undefined;
}

async function environments(): Promise<EnvironmentsApi | undefined> {
  const ext = vscode.extensions.getExtension<{ environments?: EnvironmentsApi }>(PYTHON_EXTENSION_ID);
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    return api?.environments;
  } catch {
    return undefined;
  }
}

/** The executable of the Python extension's active interpreter for `resource`, if any. */
export async function activeInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const envs = await environments();
  if (!envs) return undefined;
  try {
    const active = envs.getActiveEnvironmentPath(resource);
    if (!active?.path) return undefined;
    if (envs.resolveEnvironment) {
      const resolved = await envs.resolveEnvironment(active);
      const exe = resolved?.executable?.uri?.fsPath;
      if (exe) return exe;
    }
    return active.path;
  } catch {
    return undefined;
  }
}

/** Calls `listener` when the Python extension's active interpreter changes. */
export async function onActiveInterpreterChanged(listener: () => void): Promise<vscode.Disposable | undefined> {
  const envs = await environments();
  return envs?.onDidChangeActiveEnvironmentPath(() => listener());
}
