// Starts, restarts and stops the memlens language server, after checking that the interpreter
// has memlens (and offering to install the bundled wheel when it has not).
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
  State,
} from 'vscode-languageclient/node';
import {
  describeSource,
  type LaunchInputs,
  parseProbeOutput,
  pipInstallArgs,
  PROBE_SCRIPT,
  type ProbeResult,
  resolveProfileInterpreter,
  resolveServerLaunch,
  type ServerLaunch,
} from './launch';
import { activeInterpreter, isPythonExtensionInstalled, onActiveInterpreterChanged } from './pythonExtension';
import { mapSettings, RESTART_SETTINGS } from './settings';

/** Tells the server the workspace's trust changed (VS Code only ever grants it at run time). */
export const WORKSPACE_TRUST = 'memlens/workspaceTrust';

export type ServerState = 'stopped' | 'starting' | 'running' | 'missing' | 'failed';

export class ServerManager implements vscode.Disposable {
  client: LanguageClient | undefined;
  launch: ServerLaunch | undefined;
  /** Sent to the server as `interpreter`: the Python that runs profiled code. */
  profileInterpreter: string | undefined;
  state: ServerState = 'stopped';
  private readonly disposables: vscode.Disposable[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  private pending: Promise<void> = Promise.resolve();
  /** Interpreters we already told the user about, so that one problem gives one notification. */
  private readonly notified = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    private readonly middleware: Middleware,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) {
          this.notified.clear();
          void this.restart();
        } else if (e.affectsConfiguration('memlens') && this.client && this.state === 'running') {
          // Pull model: the server asks workspace/configuration for section "memlens".
          void this.client
            .sendNotification(DidChangeConfigurationNotification.type, { settings: null })
            .catch(() => undefined);
        }
      }),
    );
    this.disposables.push(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        if (this.client && this.state === 'running') {
          void this.client.sendNotification(WORKSPACE_TRUST, { trusted: true }).catch(() => undefined);
        }
      }),
    );
    void onActiveInterpreterChanged(() => {
      const configured = (vscode.workspace.getConfiguration('memlens').get<string>('interpreter') ?? '').trim();
      if (!configured) {
        this.output.appendLine('[memlens] the Python extension changed the active interpreter: restarting the server');
        this.notified.clear();
        void this.restart();
      }
    }).then((d) => d && this.disposables.push(d));
  }

  private setState(state: ServerState): void {
    this.state = state;
    this.stateEmitter.fire(state);
  }

  /** Serializes start/stop so that settings changes in a burst give one restart. */
  private enqueue(work: () => Promise<void>): Promise<void> {
    this.pending = this.pending.then(work, work).catch((err) => {
      this.output.appendLine(`[memlens] ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    });
    return this.pending;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  /** `fromUser`: the Restart Server command; setup problems are then shown again. */
  restart(fromUser = false): Promise<void> {
    if (fromUser) this.notified.clear();
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  private async launchInputs(): Promise<LaunchInputs> {
    const config = vscode.workspace.getConfiguration('memlens');
    const folder = vscode.workspace.workspaceFolders?.[0];
    const resource = vscode.window.activeTextEditor?.document.uri ?? folder?.uri;
    const interpreterSet = (config.get<string>('interpreter') ?? '').trim() !== '';
    return {
      serverCommand: config.get('serverCommand'),
      interpreter: config.get('interpreter'),
      activeInterpreter: interpreterSet ? undefined : await activeInterpreter(resource),
      workspaceFolder: folder?.uri.fsPath,
      home: os.homedir(),
    };
  }

  private async resolveLaunch(): Promise<ServerLaunch> {
    const inputs = await this.launchInputs();
    this.profileInterpreter = resolveProfileInterpreter(inputs);
    return resolveServerLaunch(inputs);
  }

  /** The environment the server (and the probe) run in: no workspace folder on sys.path. */
  private serverEnv(): NodeJS.ProcessEnv {
    return { ...process.env, PYTHONSAFEPATH: '1', PYTHONUNBUFFERED: '1' };
  }

  private probe(python: string): Promise<{ result?: ProbeResult; spawnError?: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        python,
        ['-c', PROBE_SCRIPT],
        { cwd: this.context.extensionPath, env: this.serverEnv(), timeout: 30_000 },
        (error, stdout, stderr) => {
          const result = parseProbeOutput(String(stdout));
          if (!result && error) {
            const code = (error as NodeJS.ErrnoException).code;
            resolve({
              spawnError: code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'not executable' : error.message,
              stderr: String(stderr),
            });
            return;
          }
          resolve({ result, stderr: String(stderr) });
        },
      );
    });
  }

  private async doStart(): Promise<void> {
    if (this.client) return;
    this.setState('starting');
    const launch = await this.resolveLaunch();
    this.launch = launch;
    const where = describeSource(launch.source);
    this.output.appendLine(`[memlens] server: ${[launch.command, ...launch.args].join(' ')} (from ${where})`);

    if (launch.python) {
      const probe = await this.probe(launch.python);
      if (probe.spawnError || !probe.result) {
        this.setState('failed');
        const why = probe.spawnError ?? `it did not answer (${probe.stderr.trim().split('\n').pop() ?? 'no output'})`;
        this.output.appendLine(`[memlens] Python interpreter ${launch.python} (from ${where}): ${why}`);
        this.notifyOnce(launch.python, () =>
          this.showSetupNotification(
            `memlens: the Python interpreter "${launch.python}" (from ${where}) could not be run: ${why}.`,
            launch,
            false,
          ),
        );
        return;
      }
      if (!probe.result.memlens) {
        this.setState('missing');
        this.output.appendLine(
          `[memlens] memlens is not installed in ${probe.result.python ?? launch.python}: ${probe.result.error ?? ''}`,
        );
        this.notifyOnce(launch.python, () =>
          this.showSetupNotification(
            `memlens is not installed in the Python interpreter "${probe.result?.python ?? launch.python}" (from ${where}). Install it there, or choose another interpreter.`,
            launch,
            true,
          ),
        );
        return;
      }
      this.output.appendLine(
        `[memlens] using memlens ${probe.result.memlens} on Python ${probe.result.version} (${probe.result.python})`,
      );
    }

    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      // The extension folder, not the workspace: `python -m` puts the cwd on sys.path.
      options: { cwd: this.context.extensionPath, env: this.serverEnv() },
    };
    const clientOptions: LanguageClientOptions = {
      // Notebook cells too: once the server declares notebookDocumentSync, the client syncs
      // them through notebook messages and the diagnostics land on each cell.
      documentSelector: [
        { scheme: 'file', language: 'python' },
        { scheme: 'untitled', language: 'python' },
        { notebook: '*', language: 'python' },
      ],
      outputChannel: this.output,
      // Trust goes at the top level, outside the settings a workspace can write: the server
      // profiles and loads workspace rule folders only in a trusted workspace.
      initializationOptions: { settings: this.currentSettings(), workspaceTrusted: vscode.workspace.isTrusted },
      middleware: {
        ...this.middleware,
        workspace: {
          ...this.middleware.workspace,
          // Section "memlens" is answered with the mapped settings (settings.ts), not the raw
          // VS Code object: the server sees one shape, and empty lists do not hide pyproject's.
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) return answers;
            return params.items.map((item, i) => (item.section === 'memlens' ? this.currentSettings() : answers[i]));
          },
        },
      },
    };
    const client = new LanguageClient('memlens', 'memlens', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Running) this.setState('running');
      else if (e.newState === State.Stopped && this.state !== 'stopped') this.setState('failed');
    });
    try {
      await client.start();
      this.lastProblem = undefined;
      this.setState('running');
    } catch (err) {
      this.setState('failed');
      const message = err instanceof Error ? err.message : String(err);
      this.output.appendLine(`[memlens] the server did not start: ${message}`);
      void vscode.window
        .showErrorMessage(`memlens: the language server did not start (${message}).`, 'Show Output')
        .then((choice) => choice && this.output.show());
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.setState('stopped');
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.output.appendLine(`[memlens] stopping the server: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  currentSettings() {
    const config = vscode.workspace.getConfiguration('memlens');
    return mapSettings((key) => config.get(key), this.profileInterpreter);
  }

  /** Commands the running server registered through executeCommandProvider. */
  serverCommands(): string[] {
    return this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  }

  private lastProblem: (() => void) | undefined;

  private notifyOnce(key: string, show: () => void): void {
    this.lastProblem = show;
    if (this.notified.has(key)) return;
    this.notified.add(key);
    show();
  }

  /** The status bar's click while the server cannot start: the setup notification again. */
  showSetupProblem(): void {
    if (this.lastProblem && (this.state === 'missing' || this.state === 'failed')) this.lastProblem();
    else this.output.show();
  }

  private async showSetupNotification(message: string, launch: ServerLaunch, offerInstall: boolean): Promise<void> {
    const actions = [...(offerInstall ? ['Install'] : []), 'Select Interpreter', 'Open Settings'];
    const choice = await vscode.window.showErrorMessage(message, ...actions);
    if (choice === 'Install' && launch.python) {
      await this.installInto(launch.python);
    } else if (choice === 'Select Interpreter') {
      await selectInterpreter();
    } else if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'memlens.interpreter');
    }
  }

  bundledWheel(): string | undefined {
    const dir = path.join(this.context.extensionPath, 'client', 'out', 'bundled');
    try {
      const wheel = fs.readdirSync(dir).find((f) => /^memlens-.*\.whl$/.test(f));
      return wheel ? path.join(dir, wheel) : undefined;
    } catch {
      return undefined;
    }
  }

  /** pip-installs the wheel the VSIX ships into `python` (dependencies from the package index). */
  async installInto(python: string): Promise<void> {
    const wheel = this.bundledWheel();
    if (!wheel) {
      void vscode.window.showErrorMessage(
        'memlens: this build of the extension ships no memlens wheel. Install memlens into the interpreter yourself (pip install memlens).',
      );
      return;
    }
    const args = pipInstallArgs(wheel);
    this.output.appendLine(`[memlens] ${python} ${args.join(' ')}`);
    const code = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Installing memlens into ${python}`, cancellable: true },
      (progress, token) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(python, args, { cwd: this.context.extensionPath, env: this.serverEnv() });
          token.onCancellationRequested(() => child.kill());
          const onData = (data: Buffer) => {
            const text = data.toString();
            this.output.append(text);
            const last = text.trim().split('\n').pop();
            if (last) progress.report({ message: last.slice(0, 80) });
          };
          child.stdout.on('data', onData);
          child.stderr.on('data', onData);
          child.on('error', (err) => {
            this.output.appendLine(`[memlens] ${err.message}`);
            resolve(-1);
          });
          child.on('close', (exitCode) => resolve(exitCode));
        }),
    );
    if (code === 0) {
      this.output.appendLine('[memlens] memlens installed; starting the server');
      void vscode.window.showInformationMessage(`memlens installed into ${python}.`);
      await this.restart();
    } else {
      const choice = await vscode.window.showErrorMessage(
        `memlens: pip could not install memlens into ${python} (exit ${code}). The Output channel has pip's messages.`,
        'Show Output',
        'Select Interpreter',
      );
      if (choice === 'Show Output') this.output.show();
      else if (choice === 'Select Interpreter') await selectInterpreter();
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.stateEmitter.dispose();
    void this.doStop();
  }
}

/** The Python extension's interpreter picker, or a file picker that sets memlens.interpreter. */
export async function selectInterpreter(): Promise<void> {
  if (isPythonExtensionInstalled()) {
    await vscode.commands.executeCommand('python.setInterpreter');
    return;
  }
  const picked = await vscode.window.showOpenDialog({
    title: 'Python interpreter for memlens',
    openLabel: 'Use this interpreter',
    canSelectMany: false,
    canSelectFolders: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  if (picked?.[0]) {
    await vscode.workspace
      .getConfiguration('memlens')
      .update('interpreter', picked[0].fsPath, vscode.ConfigurationTarget.Global);
  }
}
