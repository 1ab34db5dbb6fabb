// Status bar: memlens findings in the active file, or "profiling…".
import * as vscode from 'vscode';
import type { ProfileController } from './profiler';
import type { ServerManager } from './server';

export const SHOW_PROBLEMS_COMMAND = 'memlens.showProblems';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('memlens.status', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly server: ServerManager,
    private readonly profiles: ProfileController,
  ) {
    this.item.name = 'memlens';
    this.disposables.push(
      this.item,
      vscode.languages.onDidChangeDiagnostics(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      server.onDidChangeState(() => this.update()),
      profiles.onDidChangeRunning(() => this.update()),
    );
    this.update();
  }

  /** The memlens findings of `uri` the Problems view lists, and the hints it does not (their
   * size is not known: drawn as faint dots, explained on hover). */
  static count(uri: vscode.Uri): { shown: number; hints: number } {
    const ours = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'memlens');
    const hints = ours.filter((d) => d.severity === vscode.DiagnosticSeverity.Hint).length;
    return { shown: ours.length - hints, hints };
  }

  update(): void {
    const editor = vscode.window.activeTextEditor;
    const isPython = editor?.document.languageId === 'python';
    if (this.profiles.isRunning) {
      this.item.text = '$(sync~spin) memlens: profiling…';
      this.item.tooltip = 'memlens is profiling a function';
      this.item.command = 'memlens.showOutput';
      this.item.show();
      return;
    }
    if (!isPython) {
      this.item.hide();
      return;
    }
    if (this.server.state === 'missing' || this.server.state === 'failed') {
      this.item.text = '$(warning) memlens';
      this.item.tooltip =
        this.server.state === 'missing'
          ? 'memlens is not installed in the selected interpreter. Click for details.'
          : 'The memlens server is not running. Click for details.';
      this.item.command = 'memlens.showSetupProblem';
      this.item.show();
      return;
    }
    const { shown: n, hints } = StatusBar.count(editor.document.uri);
    this.item.text = `$(pulse) memlens: ${n}`;
    const faint = hints ? ` and ${hints} hint${hints === 1 ? '' : 's'} (size not known: faint dots, hover to read)` : '';
    this.item.tooltip = `${n} memlens finding${n === 1 ? '' : 's'}${faint} in this file. Click to open the Problems view.`;
    this.item.command = SHOW_PROBLEMS_COMMAND;
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * Opens the Problems view with its filter focused. VS Code 1.100 has no command that sets the
 * filter text, so the view shows every source; memlens rows carry "memlens" and the rule code.
 */
export async function showProblems(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.problems.focus');
  try {
    await vscode.commands.executeCommand('problems.action.focusFilter');
  } catch {
    // older builds
  }
}
