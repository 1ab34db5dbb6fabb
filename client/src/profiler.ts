// The "Profile memory" UX: trust check, call-expression prompt (remembered per function),
// progress with Cancel, result reporting. The run itself is the server's `memlens.profileFunction`.
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LSPErrorCodes,
  ResponseError,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
} from 'vscode-languageclient/node';
import {
  asksForCall,
  callKey,
  callTemplate,
  findFunctionHeader,
  isFailure,
  isProfileArgs,
  needsCallExpression,
  PROFILE_COMMAND,
  type ProfileArgs,
  type ProfileResult,
  report,
  summarize,
} from './profile';
import type { ServerManager } from './server';

interface RememberedCall {
  call: string;
  line: number;
}

export class ProfileController implements vscode.Disposable {
  private running = 0;
  private readonly runningEmitter = new vscode.EventEmitter<boolean>();
  readonly onDidChangeRunning = this.runningEmitter.event;
  private readonly callsEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCalls = this.callsEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly server: ServerManager,
  ) {}

  get isRunning(): boolean {
    return this.running > 0;
  }

  remembered(uri: string, qualname: string): RememberedCall | undefined {
    return this.context.workspaceState.get<RememberedCall>(callKey(uri, qualname));
  }

  /** Every remembered call of one document, by qualname. */
  rememberedIn(uri: string): Array<{ qualname: string } & RememberedCall> {
    const prefix = callKey(uri, '');
    return this.context.workspaceState
      .keys()
      .filter((k) => k.startsWith(prefix))
      .map((k) => ({ qualname: k.slice(prefix.length), ...(this.context.workspaceState.get<RememberedCall>(k) as RememberedCall) }))
      .filter((r) => typeof r.call === 'string');
  }

  private async remember(args: ProfileArgs, call: string | undefined): Promise<void> {
    await this.context.workspaceState.update(callKey(args.uri, args.qualname), call ? { call, line: args.line } : undefined);
    this.callsEmitter.fire();
  }

  /** Input box for the call expression; undefined when the user cancels. */
  async promptForCall(args: ProfileArgs, reason?: string): Promise<string | undefined> {
    const previous = this.remembered(args.uri, args.qualname)?.call;
    let value = previous;
    if (!value) {
      let source = '';
      try {
        source = (await vscode.workspace.openTextDocument(vscode.Uri.parse(args.uri))).getText();
      } catch {
        // the template then has no parameters
      }
      value = callTemplate(args.qualname, findFunctionHeader(source, args.qualname, args.line));
    }
    const open = value.indexOf('(');
    const call = await vscode.window.showInputBox({
      title: `Profile ${args.qualname}: call expression`,
      prompt:
        reason ??
        `${args.qualname} needs arguments and this file has no __main__ entry. Write the call to profile; names can come from the module.`,
      value,
      valueSelection: open >= 0 && value.endsWith(')') ? [open + 1, value.length - 1] : undefined,
      ignoreFocusOut: true,
      validateInput: (text) => (text.trim() === '' ? 'Write a call expression, e.g. train(load_data())' : undefined),
    });
    return call?.trim() || undefined;
  }

  /** The Change call lens: edit the remembered call and profile again. */
  async changeCall(args: ProfileArgs): Promise<unknown> {
    const call = await this.promptForCall(args, `The call expression used to profile ${args.qualname}.`);
    if (!call) return undefined;
    await this.remember(args, call);
    return this.profile({ ...args, call });
  }

  /** Entry point for the lens (through middleware) and the palette. Returns the server's result. */
  async profile(raw: unknown): Promise<ProfileResult | undefined> {
    if (!isProfileArgs(raw)) {
      void vscode.window.showErrorMessage('memlens: Profile Function was called without a function to profile.');
      return undefined;
    }
    let args: ProfileArgs = { ...raw };
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage(
        'memlens: profiling is disabled because this workspace is not trusted. Profiling runs the code of the workspace; trust it to profile (memory hints work without trust).',
        'Manage Workspace Trust',
      );
      if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    }
    const client = this.server.client;
    if (!client || this.server.state !== 'running') {
      void vscode.window
        .showErrorMessage('memlens: the language server is not running, so nothing can be profiled.', 'Show Output')
        .then((c) => c && this.server.output.show());
      return undefined;
    }

    if (!args.call && !args.entry) {
      const remembered = this.remembered(args.uri, args.qualname);
      if (remembered) {
        args.call = remembered.call;
      } else if (needsCallExpression(args)) {
        const call = await this.promptForCall(args);
        if (!call) return undefined;
        args.call = call;
      }
    }

    let result = await this.run(args);
    if (result && asksForCall(result) && !raw.call) {
      const call = await this.promptForCall(args, result.error?.message);
      if (!call) return result;
      args = { ...args, call };
      result = await this.run(args);
    }
    if (result && args.call && !['setup_error', 'not_found'].includes(result.status)) {
      await this.remember(args, args.call);
    }
    return result;
  }

  private async run(args: ProfileArgs): Promise<ProfileResult | undefined> {
    const client = this.server.client;
    if (!client) return undefined;
    const output = this.server.output;
    const label = args.call ? `${args.qualname} via ${args.call}` : args.qualname;
    output.appendLine(`[profile] ${label}`);
    this.running++;
    this.runningEmitter.fire(true);
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `memlens: profiling ${args.qualname}`, cancellable: true },
        async (progress, token) => {
          progress.report({ message: args.call ?? 'running…' });
          // The server reports its progress ("importing…", "running…") on our token, into this
          // notification, rather than opening a second one.
          const workDoneToken = `memlens-profile-${Date.now()}-${Math.random().toString(36).slice(2)}`;
          const listener = client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
            if (value.kind !== 'end' && value.message) progress.report({ message: value.message });
          });
          // Cancel: the request's token sends $/cancelRequest; also cancel the progress token,
          // which servers (pygls) tie to the run even when their handler ignores $/cancelRequest.
          const onCancel = token.onCancellationRequested(() => {
            void client
              .sendNotification(WorkDoneProgressCancelNotification.type, { token: workDoneToken })
              .catch(() => undefined);
          });
          try {
            return (await client.sendRequest(
              ExecuteCommandRequest.type,
              { command: PROFILE_COMMAND, arguments: [args], workDoneToken },
              token,
            )) as ProfileResult | null;
          } catch (err) {
            if (token.isCancellationRequested || (err instanceof ResponseError && err.code === LSPErrorCodes.RequestCancelled)) {
              return { status: 'cancelled' } as ProfileResult;
            }
            throw err;
          } finally {
            listener.dispose();
            onCancel.dispose();
          }
        },
      );
      if (!result || typeof result !== 'object' || typeof result.status !== 'string') {
        output.appendLine(`[profile] unexpected answer from the server: ${JSON.stringify(result)}`);
        void vscode.window.showErrorMessage('memlens: the server gave no profile result; see the Output channel.');
        return undefined;
      }
      output.appendLine(report(args.qualname, result));
      if (typeof result.warning === 'string' && result.warning) {
        output.appendLine(`[profile] warning: ${result.warning}`);
        void vscode.window.showWarningMessage(`memlens: ${args.qualname}: ${result.warning}`);
      }
      if (result.status === 'ok') {
        vscode.window.setStatusBarMessage(`$(check) memlens: ${summarize(args.qualname, result)}`, 8000);
      } else if (result.status === 'cancelled') {
        vscode.window.setStatusBarMessage(`memlens: profile of ${args.qualname} cancelled`, 5000);
      } else if (isFailure(result) && !asksForCall(result)) {
        void vscode.window
          .showErrorMessage(`memlens: ${summarize(args.qualname, result)}`, 'Show Output')
          .then((c) => c && output.show(true));
      }
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      output.appendLine(`[profile] request failed: ${message}`);
      void vscode.window
        .showErrorMessage(`memlens: profiling ${args.qualname} failed: ${message}`, 'Show Output')
        .then((c) => c && output.show(true));
      return undefined;
    } finally {
      this.running--;
      this.runningEmitter.fire(this.running > 0);
    }
  }

  /** The palette command: profile the function around the cursor, found from the server's lenses. */
  async profileAtCursor(): Promise<unknown> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== 'python') {
      void vscode.window.showInformationMessage('memlens: open a Python file and put the cursor in a function to profile it.');
      return undefined;
    }
    const lenses =
      (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri, 100)) ?? [];
    const targets = lenses
      .filter((l) => l.command?.command === PROFILE_COMMAND && isProfileArgs(l.command.arguments?.[0]))
      .sort((a, b) => a.range.start.line - b.range.start.line);
    if (targets.length === 0) {
      void vscode.window.showInformationMessage('memlens: no function to profile in this file.');
      return undefined;
    }
    const cursor = editor.selection.active.line;
    let target = [...targets].reverse().find((l) => l.range.start.line <= cursor);
    if (!target) {
      const pick = await vscode.window.showQuickPick(
        targets.map((l) => ({ label: (l.command?.arguments?.[0] as ProfileArgs).qualname, lens: l })),
        { title: 'memlens: function to profile' },
      );
      target = pick?.lens;
    }
    return target ? this.profile(target.command?.arguments?.[0]) : undefined;
  }

  dispose(): void {
    this.runningEmitter.dispose();
    this.callsEmitter.dispose();
  }
}

/** "Change call" lenses above the functions that have a remembered call expression. */
export class ChangeCallLensProvider implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;

  constructor(private readonly profiles: ProfileController) {
    this.onDidChangeCodeLenses = profiles.onDidChangeCalls;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const uri = document.uri.toString();
    const remembered = this.profiles.rememberedIn(uri);
    if (remembered.length === 0) return [];
    const text = document.getText();
    const lenses: vscode.CodeLens[] = [];
    for (const r of remembered) {
      const header = findFunctionHeader(text, r.qualname, r.line);
      if (!header) continue;
      const short = r.call.length > 40 ? `${r.call.slice(0, 39)}…` : r.call;
      lenses.push(
        new vscode.CodeLens(new vscode.Range(header.line, 0, header.line, 0), {
          title: `Change call: ${short}`,
          tooltip: `memlens profiles ${r.qualname} by running ${r.call}. Click to change it.`,
          command: 'memlens.changeCall',
          arguments: [{ uri, qualname: r.qualname, line: r.line }],
        }),
      );
    }
    return lenses;
  }
}
