// memlens VS Code extension: starts the memlens language server and adds the profile UX.
// All analysis happens in the server (`python -m memlens serve`).
//
// Command ids: the server registers `memlens.profileFunction` (used by its "Profile memory" lens)
// and `memlens.checkWorkspace` through workspace/executeCommand; vscode-languageclient registers
// those in VS Code. The client intercepts `memlens.profileFunction` in `middleware.executeCommand`
// (trust check, call prompt, progress + Cancel) and gives the palette its own `memlens.profile`.
import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import { PROFILE_COMMAND } from './profile';
import { ChangeCallLensProvider, ProfileController } from './profiler';
import { selectInterpreter, ServerManager } from './server';
import { SHOW_PROBLEMS_COMMAND, showProblems, StatusBar } from './status';

let manager: ServerManager | undefined;

const CHECK_WORKSPACE_COMMAND = 'memlens.checkWorkspace';

/** The server's `memlens.checkWorkspace` answers `{files, findings, cancelled?, error?}`. */
async function showCheckSummary(result: unknown): Promise<void> {
  const r = (result ?? {}) as { files?: number; findings?: number; cancelled?: boolean; error?: string };
  if (r.error) {
    void vscode.window.showWarningMessage(`memlens: ${r.error}`);
    return;
  }
  if (typeof r.files !== 'number') return;
  const what = `${r.findings ?? 0} finding${r.findings === 1 ? '' : 's'} in ${r.files} file${r.files === 1 ? '' : 's'}`;
  const choice = await vscode.window.showInformationMessage(
    `memlens: ${r.cancelled ? 'check cancelled after' : 'checked the workspace:'} ${what}.`,
    'Open Problems',
  );
  if (choice) await showProblems();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('memlens', { log: true });
  context.subscriptions.push(output);

  // eslint-disable-next-line prefer-const
  let profiles: ProfileController;
  const middleware: Middleware = {
    executeCommand: async (command, args, next) => {
      if (command === PROFILE_COMMAND) return profiles.profile(args[0]);
      if (command === CHECK_WORKSPACE_COMMAND) {
        const result = await next(command, args);
        void showCheckSummary(result);
        return result;
      }
      return next(command, args);
    },
  };
  manager = new ServerManager(context, output, middleware);
  const server = manager;
  profiles = new ProfileController(context, server);
  const status = new StatusBar(server, profiles);
  context.subscriptions.push(server, profiles, status);

  const serverCommand = async (names: string[], missing: string, ...args: unknown[]) => {
    const available = server.serverCommands();
    const name = names.find((n) => available.includes(n));
    if (!server.client || server.state !== 'running') {
      void vscode.window
        .showErrorMessage('memlens: the language server is not running.', 'Show Output')
        .then((c) => c && output.show());
      return undefined;
    }
    if (!name) {
      void vscode.window.showWarningMessage(`memlens: ${missing}`);
      return undefined;
    }
    return vscode.commands.executeCommand(name, ...args);
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('memlens.profile', () => profiles.profileAtCursor()),
    vscode.commands.registerCommand('memlens.changeCall', (args) => profiles.changeCall(args)),
    vscode.commands.registerCommand('memlens.clearProfile', async () => {
      // Clears every result (inlay hints, result lenses, hot lines); remembered calls stay.
      return serverCommand(
        ['memlens.clearProfile', 'memlens.clearProfileResults', 'memlens.clearProfiles'],
        'this memlens server cannot clear profile results; restart it to clear them.',
      );
    }),
    vscode.commands.registerCommand('memlens.restartServer', () => server.restart(true)),
    vscode.commands.registerCommand('memlens.showSetupProblem', () => server.showSetupProblem()),
    vscode.commands.registerCommand('memlens.showOutput', () => output.show()),
    vscode.commands.registerCommand('memlens.selectInterpreter', () => selectInterpreter()),
    vscode.commands.registerCommand(SHOW_PROBLEMS_COMMAND, () => showProblems()),
    vscode.languages.registerCodeLensProvider({ language: 'python' }, new ChangeCallLensProvider(profiles)),
  );

  // `memlens.checkWorkspace` is the server's command; when this server does not offer it, the
  // palette entry must still say something rather than fail with "command not found".
  const fallbackCheck = server.onDidChangeState(async (state) => {
    if (state !== 'running') return;
    const all = await vscode.commands.getCommands(true);
    if (!all.includes(CHECK_WORKSPACE_COMMAND)) {
      fallbackCheck.dispose();
      context.subscriptions.push(
        vscode.commands.registerCommand(CHECK_WORKSPACE_COMMAND, () =>
          vscode.window.showWarningMessage('memlens: this memlens server does not offer Check Workspace.'),
        ),
      );
    }
  });
  context.subscriptions.push(fallbackCheck);

  await server.start();
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
}
