#!/usr/bin/env node
// Real-editor end-to-end test of the memlens extension: code-server (VS Code 1.100) in headless
// Debian Chromium, driven by playwright-core. Installs the built VSIX, points memlens.interpreter
// at the repo's .venv, opens a Python file and checks what a person would see.
//
//   node tests/e2e/run.mjs [--vsix memlens-0.1.0.vsix] [--only 1,2,5] [--all] [--keep]
//
// Needs .ci/install-e2e-deps.sh (chromium, code-server in .tools/code-server) and `make venv`.
// Screenshots and logs go to .test-output/e2e/. Ends with "N passed, M failed".
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, '.test-output', 'e2e');
const CODE_SERVER = join(ROOT, '.tools', 'code-server', 'node_modules', '.bin', 'code-server');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const CHROMIUM = process.env.MEMLENS_E2E_CHROMIUM || '/usr/bin/chromium';

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const VSIX = resolve(ROOT, opt('--vsix') ?? `${pkg.name}-${pkg.version}.vsix`);
const ONLY = opt('--only')?.split(',').map(Number);
const KEEP = argv.includes('--keep');
// Checks that wait on a fix outside the client; they run with --all or --only N.
const PENDING = {};
const ALL = argv.includes('--all');
const wanted = (n) => (ONLY ? ONLY.includes(n) : ALL || !(n in PENDING));
const skipped = ONLY ? [] : Object.keys(PENDING).map(Number).filter((n) => !wanted(n));

// Checks 1-4 open the example project (examples/churn, copied): its first fixable finding,
// the rule's docs, that fix, and the profile of `build_feature_matrix`. The other checks use the
// fixture project, whose functions exercise the call prompt, Cancel and the palette.
const EXAMPLES = join(ROOT, 'examples', 'churn');
const EXAMPLE_FILE = 'features.py';
const EXAMPLE_FUNCTION = 'build_feature_matrix';
const FIXTURE = join(ROOT, 'tests', 'e2e', 'fixtures', 'project');
const FILE = 'features.py';
const PROFILE_FUNCTION = 'build_matrix';
// Check 15 opens a copy of examples/notebooks/explain_churn.ipynb in VS Code's notebook editor.
const NOTEBOOK_FIXTURE = join(ROOT, 'examples', 'notebooks');
const NOTEBOOK = 'explain_churn.ipynb';
// Workspaces are copies outside the repository (the tests edit them; no repo config applies).
const WS = mkdtempSync(join(tmpdir(), 'memlens-e2e-'));

const t0 = Date.now();
const log = (msg) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const results = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fail(msg) {
  throw new Error(msg);
}

async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function waitForHttp(url, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  fail(`code-server did not answer at ${url}`);
}

/** One code-server instance with its own user-data and extensions folders. */
async function startCodeServer(name, { trustEnabled, settings: extra = {} }) {
  const dir = join(OUT, name);
  const userData = join(dir, 'user-data');
  const extensions = join(dir, 'extensions');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extensions, { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.enableExperiments': false,
    'extensions.ignoreRecommendations': true,
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'update.mode': 'none',
    'telemetry.telemetryLevel': 'off',
    'chat.commandCenter.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'window.commandCenter': false,
    'editor.minimap.enabled': false,
    'editor.codeLens': true,
    'editor.inlayHints.enabled': 'on',
    'editor.hover.delay': 200,
    'files.autoSave': 'off',
    'git.enabled': false,
    'git.openRepositoryInParentFolders': 'never',
    'security.workspace.trust.enabled': trustEnabled,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.emptyWindow': false,
    'memlens.interpreter': PYTHON,
    // For debugging the harness only, e.g. another memlens.serverCommand.
    ...JSON.parse(process.env.MEMLENS_E2E_SETTINGS || '{}'),
    ...extra,
  };
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');
  const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensions];

  execFileSync(CODE_SERVER, [...common, '--install-extension', VSIX], { stdio: 'pipe' });
  const port = await freePort();
  const args = [
    ...common,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(trustEnabled ? [] : ['--disable-workspace-trust']),
  ];
  const logFile = createWriteStream(join(dir, 'code-server.log'));
  const child = spawn(CODE_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.pipe(logFile);
  child.stderr.pipe(logFile);
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 30_000);
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    stop() {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    },
  };
}

/** A fresh copy of a project (the fixture unless given) in the temporary folder. */
function makeWorkspace(name, src = FIXTURE) {
  const dir = join(WS, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(src, dir, { recursive: true, filter: (p) => !p.includes('__pycache__') });
  if (src === FIXTURE) {
    // a data file the fixture names: a real .npy whose header says 20000 x 4096 float32
    // (312 MiB, written sparse), so that its whole load is a warning that carries the size
    execFileSync(PYTHON, ['-c', 'import numpy as np, sys; np.lib.format.open_memmap(sys.argv[1], mode="w+", dtype="float32", shape=(20000, 4096)).flush()', join(dir, 'embeddings.npy')]);
  }
  return dir;
}

/** What the engine finds in `file` (see expect.py). */
function expectFor(file) {
  return JSON.parse(execFileSync(PYTHON, [join(ROOT, 'tests', 'e2e', 'expect.py'), file], { encoding: 'utf8' }));
}

/** What `memlens check` finds in a notebook: [{code, message, cell, location}] (JSON output). */
function expectNotebook(file) {
  try {
    execFileSync(PYTHON, ['-m', 'memlens', 'check', '--output-format', 'json', file], { encoding: 'utf8' });
    return [];
  } catch (err) {
    if (err.status !== 1) throw err; // 1: findings
    return JSON.parse(err.stdout);
  }
}

/** Ctrl+G to a 1-based line (and column), so that it is in view with the cursor on it. */
async function gotoLine(page, line, column) {
  await page.keyboard.press('Control+G');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(column ? `${line}:${column}` : String(line));
  await page.keyboard.press('Enter');
  await sleep(400);
}

/** An element's pixel box, or null when it is gone: the editor re-renders squiggles, lenses and
 * overlays as diagnostics arrive, and a stale handle would wait out Playwright's 30 s. */
async function boxOf(locator) {
  return locator.boundingBox({ timeout: 1_000 }).catch(() => null);
}

/** The pixel box of the cursor's line: null while the editor has no focused current line (it
 * is still laying out, right after the window opens or a widget closes). */
async function cursorLineBox(page) {
  const overlays = page.locator('.monaco-editor.focused .view-overlays .current-line');
  const ready = await overlays.first().waitFor({ timeout: 5_000 }).then(() => true, () => false);
  if (!ready) return null;
  // (an overlay can be in the DOM without a box, e.g. while it is re-rendered: take one drawn)
  for (const overlay of await overlays.all()) {
    const box = await boxOf(overlay);
    if (box) return box;
  }
  return null;
}

/** The squiggle under the cursor (go there first with gotoLine). */
async function squiggleAtCursor(page, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  do {
    const box = await cursorLineBox(page);
    if (!box) {
      await sleep(250);
      continue;
    }
    const cursor = await boxOf(page.locator('.monaco-editor.focused .cursors-layer .cursor').first());
    let best;
    for (const s of await page.locator('.monaco-editor [class*="squiggly-"]').all()) {
      const b = await boxOf(s);
      if (!b || b.y + b.height / 2 < box.y || b.y + b.height / 2 > box.y + box.height) continue;
      const dist = cursor ? Math.abs(b.x - cursor.x) : 0;
      if (!best || dist < best.dist) best = { b, dist };
    }
    if (best) return best.b;
    await sleep(250);
  } while (Date.now() < end);
  fail('no squiggle on the cursor line');
}

/** The hover of the squiggle on the cursor line (it holds `code`), opened by resting the mouse
 * on it (a few positions: a hover can miss one mouse move); as a last resort the keyboard's
 * Show Hover on the cursor, which sits on the finding. */
async function hoverOnCursorSquiggle(page, code) {
  const b = await squiggleAtCursor(page);
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: code }).first();
  let shown = false;
  for (let i = 0; i < 3 && !shown; i++) {
    await page.mouse.move(5, 400);
    await page.mouse.move(b.x + Math.min(b.width / 2, 20) + 4 * i, b.y + b.height / 2 - 3, { steps: 3 });
    shown = await hover.waitFor({ timeout: 3_000 }).then(() => true, () => false);
  }
  if (!shown) {
    log('hover: the mouse did not open it; using Show Hover (Ctrl+K Ctrl+I)');
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+I');
    await hover.waitFor({ timeout: 10_000 });
  }
  return hover;
}

async function openWorkbench(browser, server, folder, shotPrefix) {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  currentPage = page;
  page.on('pageerror', (e) => log(`${shotPrefix} page error: ${e.message}`));
  await page.goto(`${server.url}/?folder=${encodeURIComponent(folder)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await sleep(1500);
  return page;
}

async function openFile(page, file) {
  // Focus the workbench (the empty editor area) so that the keyboard shortcuts reach it.
  await page.locator('.part.editor').click({ position: { x: 300, y: 300 } }).catch(() => {});
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(file);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${file}"]`, { timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.monaco-editor .view-lines`, { timeout: 15_000 });
  await sleep(500);
}

/** Hides the bottom panel (Problems, Output) if it is open, so the whole file is in view. */
async function closePanel(page) {
  if (await page.locator('.part.panel').isVisible().catch(() => false)) {
    await page.keyboard.press('Control+J');
    await page.locator('.part.panel').waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
  }
}

async function shot(page, name) {
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

let currentPage;
const servers = [];

// Never leave code-server behind, and never hang CI: stop on signals and after 12 minutes.
function stopAll() {
  for (const server of servers) server.stop();
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}
setTimeout(() => {
  console.log('[e2e] gave up after 12 minutes');
  stopAll();
  console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
  process.exit(1);
}, 12 * 60_000).unref();

async function check(n, title, fn) {
  if (!wanted(n)) return;
  const start = Date.now();
  try {
    await fn();
    results.push({ n, title, ok: true });
    log(`PASS ${n}. ${title} (${((Date.now() - start) / 1000).toFixed(1)}s)`);
  } catch (err) {
    results.push({ n, title, ok: false, err });
    log(`FAIL ${n}. ${title}: ${err.message}`);
    if (currentPage) await shot(currentPage, `failed-${n}`).catch(() => {});
  }
}

/** Pixel box of the editor text at (0-based) line/column, from the rendered view lines. */
async function lineBox(page, needle) {
  const line = page.locator('.monaco-editor .view-lines .view-line', { hasText: needle }).first();
  await line.waitFor({ timeout: 10_000 });
  return boxOf(line);
}

async function squiggleOnLine(page, needle, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  do {
    const box = await lineBox(page, needle);
    if (!box) {
      await sleep(250);
      continue;
    }
    const squiggles = await page.locator('.monaco-editor [class*="squiggly-"]').all();
    for (const s of squiggles) {
      const b = await boxOf(s);
      if (b && b.y + b.height / 2 >= box.y && b.y + b.height / 2 <= box.y + box.height) return b;
    }
    await sleep(250);
  } while (Date.now() < end);
  fail(`no squiggle on the line with "${needle}"`);
}

/** The code lens row just above the line containing `needle` (a string, or a line's box). */
async function lensAbove(page, needle) {
  const box = typeof needle === 'string' ? await lineBox(page, needle) : needle;
  if (!box) return undefined; // (the editor is still laying out the line)
  const lenses = await page.locator('.monaco-editor .codelens-decoration').all();
  let best;
  for (const l of lenses) {
    const b = await boxOf(l);
    if (!b || b.y > box.y) continue;
    if (!best || b.y > best.box.y) best = { el: l, box: b };
  }
  if (!best || box.y - best.box.y > box.height * 1.6) return undefined;
  return best.el;
}

/** Waits for the lens above `needle` to match `pattern`; returns it. */
async function waitLens(page, needle, pattern, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  let text = '';
  do {
    const lens = await lensAbove(page, needle);
    text = lens ? await lens.textContent() : '';
    if (lens && pattern.test(text)) return lens;
    await sleep(250);
  } while (Date.now() < end);
  fail(`no lens matching ${pattern} above "${needle}" (last: "${text}")`);
}

/** Inlay hints render as injected text (spans with a dyn-rule class): those that say MiB, by line. */
async function inlayHints(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.monaco-editor .view-lines .view-line')]
      .map((line) => ({
        line: line.textContent.replace(/\u00a0/g, ' '),
        hints: [...line.querySelectorAll('span[class*="dyn-rule"]')]
          .map((s) => s.textContent.replace(/\u00a0/g, ' ').trim())
          .filter((t) => /MiB/.test(t)),
      }))
      .filter((l) => l.hints.length > 0),
  );
}

async function notificationsText(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item')]
      .map((e) => e.textContent)
      .join('\n'),
  );
}

async function dumpOutputChannel(page, name) {
  // Best effort, for debugging a failure: show the memlens Output channel and screenshot it.
  try {
    await page.keyboard.press('Control+Shift+P');
    await page.keyboard.type('memlens: Show Output');
    await sleep(600);
    await page.keyboard.press('Enter');
    await sleep(1500);
    await shot(page, name);
  } catch {
    // ignore
  }
}

async function main() {
  for (const [what, path] of [
    ['code-server (run .ci/install-e2e-deps.sh)', CODE_SERVER],
    ['Chromium (run .ci/install-e2e-deps.sh)', CHROMIUM],
    ['the VSIX (run `make vsix`)', VSIX],
    ['.venv/bin/python (run `make venv`)', PYTHON],
  ]) {
    if (!existsSync(path)) fail(`missing ${what}: ${path}`);
  }
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    if ([1, 2, 3, 4, 13].some(wanted)) {
      const server = await startCodeServer('trusted', { trustEnabled: false });
      servers.push(server);
      const folder = makeWorkspace('examples', EXAMPLES);
      const path = join(folder, EXAMPLE_FILE);
      const expected = expectFor(path);
      if (!expected.fix) fail(`examples/churn/${EXAMPLE_FILE} has no fixable finding: checks 1-3 need one`);
      const { fix } = expected;
      const finding = expected.findings.find((f) => f.code === fix.code && f.line === fix.line);
      const source = readFileSync(path, 'utf8');
      const defLine = source.split('\n').findIndex((l) => l.startsWith(`def ${EXAMPLE_FUNCTION}(`)) + 1;
      if (defLine === 0) fail(`examples/churn/${EXAMPLE_FILE} has no ${EXAMPLE_FUNCTION}`);
      log(`examples/churn/${EXAMPLE_FILE}: ${expected.findings.map((f) => f.code).join(', ')}; quick fix ${fix.code} "${fix.title}"`);
      const page = await openWorkbench(browser, server, folder, 'examples');
      await openFile(page, EXAMPLE_FILE);

      await check(1, `examples/churn/${EXAMPLE_FILE}: ${fix.code} squiggle and Problems entry with its code`, async () => {
        // The finding may lie below the first screen (the editor renders only the lines in view):
        // go to it first, then wait for its squiggle (the first check after the server starts).
        await gotoLine(page, fix.line + 1, fix.column + 1);
        await squiggleAtCursor(page, 45_000);
        await page.keyboard.press('Control+Shift+M');
        const row = page.locator('.markers-panel .monaco-list-row', { hasText: fix.code }).first();
        await row.waitFor({ timeout: 10_000 });
        const text = await row.textContent();
        if (!text.includes('memlens')) fail(`Problems row has no "memlens" source: ${text}`);
        if (!text.includes(finding.message.slice(0, 30))) fail(`Problems row lacks the message: ${text}`);
        const rows = await page.locator('.markers-panel .monaco-list-row', { hasText: /memlens/ }).count();
        log(`Problems view: ${rows} memlens rows, the engine finds ${expected.findings.length}`);
        if (rows !== expected.findings.length) fail(`${rows} memlens rows in Problems, the engine finds ${expected.findings.length}`);
        await shot(page, '1-diagnostic-problems');
        await closePanel(page);
        await page.keyboard.press('Escape');
      });

      await check(2, `hover on ${fix.code} shows the rule documentation`, async () => {
        await gotoLine(page, fix.line + 1, fix.column + 1);
        const hover = await hoverOnCursorSquiggle(page, fix.code);
        const norm = (t) => t.replace(/\s+/g, ' ');
        const phrase = fix.doc_phrase;
        await page.waitForFunction(
          (p) => [...document.querySelectorAll('.monaco-hover')].some((h) => h.textContent.replace(/\s+/g, ' ').includes(p)),
          phrase,
          { timeout: 10_000 },
        ).catch(async () => fail(`hover lacks the docs phrase "${phrase}": ${norm(await hover.textContent())}`));
        await sleep(500); // let the hover finish fading in
        await shot(page, '2-hover-docs');
        await page.mouse.move(5, 400);
        await page.keyboard.press('Escape');
      });

      await check(3, `lightbulb quick fix "${fix.title}" changes the text as the engine's fix does`, async () => {
        await gotoLine(page, fix.line + 1, fix.column + 1);
        await squiggleAtCursor(page);
        await page.keyboard.press('Control+.');
        const item = page.locator('.action-widget .monaco-list-row', { hasText: fix.title }).first();
        await item.waitFor({ timeout: 10_000 });
        await shot(page, '3a-quick-fix-menu');
        // Pick the fix with the keyboard (the menu's pointer block swallows mouse clicks).
        for (let i = 0; i < 15; i++) {
          const focused = await page.locator('.action-widget .monaco-list-row.focused').first().textContent().catch(() => '');
          if (focused.includes(fix.title)) break;
          await page.keyboard.press('ArrowDown');
        }
        await page.keyboard.press('Enter');
        await sleep(800);
        await page.keyboard.press('Control+S');
        const end = Date.now() + 10_000;
        let text = '';
        while (Date.now() < end) {
          text = readFileSync(path, 'utf8');
          if (text === fix.fixed_text) break;
          await sleep(250);
        }
        if (text !== fix.fixed_text) fail(`file after the fix:\n${text}\nexpected:\n${fix.fixed_text}`);
        await gotoLine(page, fix.line + 1);
        await shot(page, '3b-quick-fix-applied');
      });

      await check(4, `"Profile memory" lens on ${EXAMPLE_FUNCTION}; clicking it gives inlay hints and a lens with the peak`, async () => {
        await page.keyboard.press('Escape');
        // The quick fix may have moved the def: find it again in the saved file.
        const now = readFileSync(path, 'utf8').split('\n').findIndex((l) => l.startsWith(`def ${EXAMPLE_FUNCTION}(`)) + 1;
        await gotoLine(page, now);
        let lens;
        const end = Date.now() + 30_000;
        while (Date.now() < end && !(lens && /Profile memory/i.test(await lens.textContent()))) {
          lens = await lensAbove(page, await cursorLineBox(page));
          await sleep(250);
        }
        if (!lens || !/Profile memory/i.test(await lens.textContent())) fail(`no "Profile memory" lens above line ${now}`);
        await shot(page, '4a-profile-lens');
        if ((await inlayHints(page)).length > 0) fail('inlay hints before any profile run');
        await lens.locator('a', { hasText: /Profile memory/i }).first().click();
        // The run: a progress notification, then per-line inlay hints (MiB) and an updated lens.
        await page
          .locator('.notifications-toasts .notification-list-item', { hasText: /profiling/ })
          .first()
          .waitFor({ timeout: 5_000 })
          .then(() => shot(page, '4b-profiling-progress'))
          .catch(() => {});
        let hints = [];
        const hintEnd = Date.now() + 90_000;
        while (Date.now() < hintEnd && hints.length < 3) {
          await sleep(250);
          hints = await inlayHints(page);
        }
        if (hints.length < 3) fail(`${hints.length} lines with MiB inlay hints after profiling; notifications: ${await notificationsText(page)}`);
        log(`inlay hints on ${hints.length} lines, e.g. ${hints[0].hints[0]} after "${hints[0].line.split(hints[0].hints[0])[0].trim()}"`);
        let lensText = '';
        const lensEnd = Date.now() + 15_000;
        while (Date.now() < lensEnd && !(/peak/i.test(lensText) && /MiB/.test(lensText))) {
          const updated = await lensAbove(page, await cursorLineBox(page));
          lensText = updated ? await updated.textContent() : '';
          await sleep(250);
        }
        if (!/peak/i.test(lensText) || !/MiB/.test(lensText)) fail(`lens after the run: "${lensText}"`);
        await sleep(300);
        await shot(page, '4c-profile-inlay-hints');
        log(`lens after profiling: ${lensText.trim()}`);
      });
      await check(13, '"memlens: Clear Profile Results" removes the inlay hints and the result lens', async () => {
        await page.keyboard.press('Escape');
        if ((await inlayHints(page)).length === 0) fail('no profile result on screen to clear');
        await page.keyboard.press('Control+Shift+P');
        await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
        await page.keyboard.type('memlens: Clear Profile Results');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Clear Profile Results' }).first().waitFor({ timeout: 10_000 });
        await page.keyboard.press('Enter');
        const end = Date.now() + 15_000;
        while (Date.now() < end && (await inlayHints(page)).length > 0) await sleep(250);
        if ((await inlayHints(page)).length > 0) fail('inlay hints with MiB are still there');
        let text = '';
        const lensEnd = Date.now() + 10_000;
        while (Date.now() < lensEnd && !(/Profile memory/.test(text) && !/peak/.test(text))) {
          const lens = await lensAbove(page, await cursorLineBox(page));
          text = lens ? await lens.textContent() : '';
          await sleep(250);
        }
        if (!/Profile memory/.test(text) || /peak/.test(text)) fail(`lens after Clear: "${text}"`);
        await shot(page, '13-cleared');
      });

      if (results.some((r) => !r.ok)) await dumpOutputChannel(page, 'examples-output-channel');
      await page.close();
    }

    if ([6, 7, 8, 10, 11, 12, 14, 16].some(wanted)) {
      const server = await startCodeServer('fixture', { trustEnabled: false });
      servers.push(server);
      const folder = makeWorkspace('fixture');
      const page = await openWorkbench(browser, server, folder, 'fixture');
      await openFile(page, FILE);
      await page.waitForSelector('.monaco-editor [class*="squiggly-"]', { timeout: 45_000 });

      await check(6, 'status bar counts the memlens findings and opens the Problems view', async () => {
        await page.keyboard.press('Escape');
        const item = page.locator('.statusbar-item', { hasText: /memlens: \d+/ }).first();
        await item.waitFor({ timeout: 10_000 });
        await item.click();
        const memlensRows = page.locator('.markers-panel .monaco-list-row', { hasText: /memlens/ });
        await memlensRows.first().waitFor({ state: 'visible', timeout: 10_000 });
        // The Problems view lists every memlens diagnostic of the file; the status bar follows the
        // diagnostics (an extension-host round trip behind them).
        let rows = 0;
        let shown = -1;
        let text = '';
        const end = Date.now() + 10_000;
        while (Date.now() < end && (shown !== rows || rows < 1)) {
          await sleep(250);
          rows = await memlensRows.count();
          text = (await item.textContent()).trim();
          shown = Number(/memlens: (\d+)/.exec(text)?.[1] ?? -1);
        }
        if (rows !== shown) fail(`status bar says ${shown}, the Problems view lists ${rows} memlens rows`);
        if (shown < 1) fail("the fixture's own finding is not counted");
        await shot(page, '6-status-bar-problems');
        log(`status bar: "${text}", Problems rows: ${rows}`);
        await closePanel(page);
      });

      await check(16, 'the tiers: a load of a file the workspace holds is a finding that says its size, a load of a path unknown is a hint (faint, not in Problems)', async () => {
        await page.keyboard.press('Escape');
        await closePanel(page);
        const text = readFileSync(join(WS, 'fixture', FILE), 'utf8').split('\n');
        const hintLine = text.findIndex((l) => l.includes('features = np.load(path)')) + 1;
        const sizedLine = text.findIndex((l) => l.includes('np.load("embeddings.npy")')) + 1;
        if (!hintLine || !sizedLine) fail(`${FILE} lacks its two loads`);
        // the hint: VS Code draws it as faint dots (squiggly-hint), the sized one as a squiggle
        await page.locator('.monaco-editor [class*="squiggly-hint"]').first().waitFor({ state: 'attached', timeout: 20_000 });
        await gotoLine(page, sizedLine, text[sizedLine - 1].indexOf('np.load') + 1);
        const hover = await hoverOnCursorSquiggle(page, 'ML102');
        await page.waitForFunction(
          () => [...document.querySelectorAll('.monaco-hover')].some((h) => /312\.5 MiB/.test(h.textContent)),
          null, { timeout: 10_000 },
        ).catch(async () => fail(`the hover does not say the file's size: ${(await hover.textContent()).replace(/\s+/g, ' ')}`));
        await sleep(500);
        await shot(page, '16-tiers-warning-with-size');
        await page.keyboard.press('Escape');
        // the Problems view lists the sized finding, not the hint
        await page.keyboard.press('Control+Shift+M');
        const rows = page.locator('.markers-panel .monaco-list-row', { hasText: /memlens/ });
        await rows.first().waitFor({ timeout: 10_000 });
        await sleep(500);
        const listed = await rows.allTextContents();
        if (!listed.some((t) => t.includes('312.5 MiB'))) fail(`no Problems row says the size: ${listed.join(' | ')}`);
        if (listed.some((t) => t.includes(`[Ln ${hintLine},`))) fail(`the hint (line ${hintLine}) is listed in Problems: ${listed.join(' | ')}`);
        await closePanel(page);
        await gotoLine(page, hintLine, text[hintLine - 1].indexOf('np.load') + 1);
        await sleep(500);
        await shot(page, '16-tiers-hint');
      });

      await check(7, 'a function with arguments asks for a call expression, then shows a "Change call" lens', async () => {
        await page.keyboard.press('Escape');
        await closePanel(page);
        const defLine = 'def make_rows(';
        const lens = await waitLens(page, defLine, /Profile memory/i);
        await lens.locator('a', { hasText: /Profile memory/i }).first().click();
        const input = page.locator('.quick-input-widget input.input').first();
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        const value = await input.inputValue();
        if (value !== 'make_rows(n)') fail(`input box pre-filled with "${value}", expected "make_rows(n)"`);
        await shot(page, '7a-call-expression-prompt');
        await input.fill('make_rows(3)');
        await page.keyboard.press('Enter');
        const hintEnd = Date.now() + 60_000;
        const hinted = async () => (await inlayHints(page)).some((l) => l.line.includes('rows = [np.ones(1_000_000)'));
        while (Date.now() < hintEnd && !(await hinted())) await sleep(250);
        if (!(await hinted())) fail(`no inlay hint in make_rows; notifications: ${await notificationsText(page)}`);
        let text = '';
        const end = Date.now() + 10_000;
        while (Date.now() < end && !text.includes('Change call: make_rows(3)')) {
          const l = await lensAbove(page, defLine);
          text = l ? await l.textContent() : '';
          await sleep(250);
        }
        if (!text.includes('Change call: make_rows(3)')) fail(`lens above make_rows: "${text}"`);
        if (!/peak/.test(text)) fail(`lens above make_rows has no peak: "${text}"`);
        await shot(page, '7b-change-call-lens');
      });

      await check(8, 'Cancel in the progress notification stops the run', async () => {
        await page.keyboard.press('Escape');
        await closePanel(page);
        const folder = join(WS, 'fixture');
        const runners = () => {
          // profiler runner processes started in this workspace (their cwd)
          const out = [];
          for (const pid of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
            const m = /^\s*(\d+)\s+(.*)$/.exec(pid);
            if (!m || !m[2].includes('runner.py')) continue;
            try {
              if (execFileSync('readlink', [`/proc/${m[1]}/cwd`], { encoding: 'utf8' }).trim() === folder) out.push(m[1]);
            } catch {
              // gone
            }
          }
          return out;
        };
        const lens = await waitLens(page, 'def slow_loop(', /Profile memory/i);
        await lens.locator('a', { hasText: /Profile memory/i }).first().click();
        const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: /profiling slow_loop/ }).first();
        await toast.waitFor({ timeout: 10_000 });
        let pids = [];
        const end = Date.now() + 15_000;
        while (Date.now() < end && pids.length === 0) {
          pids = runners();
          await sleep(200);
        }
        if (pids.length === 0) fail('no profiler process started for slow_loop');
        await shot(page, '8a-profiling-progress-cancel');
        await toast.hover();
        await toast.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
        const gone = Date.now() + 10_000;
        while (Date.now() < gone && runners().length > 0) await sleep(200);
        if (runners().length > 0) fail(`the profiler process ${pids} still runs after Cancel`);
        await page.locator('.statusbar', { hasText: /cancelled/ }).waitFor({ timeout: 10_000 });
        await shot(page, '8b-profile-cancelled');
        const l = await lensAbove(page, 'def slow_loop(');
        const text = l ? await l.textContent() : '';
        if (/peak/.test(text)) fail(`lens shows a result after Cancel: "${text}"`);
      });

      await check(10, '"memlens: Check Workspace" from the palette reports the files that are not open', async () => {
        await page.keyboard.press('Escape');
        const other = JSON.parse(
          execFileSync(PYTHON, [join(ROOT, 'tests', 'e2e', 'expect.py'), join(WS, 'fixture', 'loader.py')], { encoding: 'utf8' }),
        );
        if (other.findings.length === 0) fail('loader.py has no finding: the check needs one');
        await page.keyboard.press('Control+Shift+P');
        await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
        await page.keyboard.type('memlens: Check Workspace');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Check Workspace' }).first().waitFor({ timeout: 10_000 });
        await page.keyboard.press('Enter');
        const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: /checked the workspace/ }).first();
        await toast.waitFor({ timeout: 30_000 });
        const message = (await toast.textContent()).replace(/\s+/g, ' ');
        if (!message.includes('in 2 files')) fail(`summary: ${message}`);
        await toast.hover();
        await toast.locator('.monaco-button', { hasText: 'Open Problems' }).click();
        const row = page.locator('.markers-panel .monaco-list-row', { hasText: other.findings[0].code });
        const file = page.locator('.markers-panel .monaco-list-row', { hasText: 'loader.py' });
        await file.first().waitFor({ timeout: 10_000 });
        if ((await row.count()) < 1) fail(`no ${other.findings[0].code} row for loader.py`);
        await sleep(300);
        await shot(page, '10-check-workspace');
        await closePanel(page);
      });

      await check(11, '"memlens: Profile Function Memory" from the palette profiles the function at the cursor', async () => {
        await page.keyboard.press('Escape');
        await closePanel(page);
        const text = readFileSync(join(WS, 'fixture', FILE), 'utf8').split('\n');
        const line = text.findIndex((l) => l.includes('stacked = np.stack(rows)')) + 1;
        await page.locator('.monaco-editor .view-lines').first().click({ position: { x: 5, y: 5 } });
        await page.keyboard.press('Control+G');
        await page.keyboard.type(String(line));
        await page.keyboard.press('Enter');
        // The status bar message of check 4's run must be gone before this run can be told apart.
        await page
          .locator('.statusbar', { hasText: `${PROFILE_FUNCTION}: peak` })
          .waitFor({ state: 'detached', timeout: 15_000 });
        await page.keyboard.press('Control+Shift+P');
        await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
        await page.keyboard.type('memlens: Profile Function Memory');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Profile Function Memory' }).first().waitFor({ timeout: 10_000 });
        await page.keyboard.press('Enter');
        await page.locator('.statusbar', { hasText: `${PROFILE_FUNCTION}: peak` }).waitFor({ timeout: 60_000 });
        await shot(page, '11-palette-profile');
      });

      await check(12, 'changing memlens.ignore in the settings reaches the server (ML102 goes, then comes back)', async () => {
        await page.keyboard.press('Escape');
        const file = join(OUT, 'fixture', 'user-data', 'User', 'settings.json');
        const original = readFileSync(file, 'utf8');
        const squiggles = () => page.locator('.monaco-editor [class*="squiggly-"]').count();
        const onLoadLine = async () => {
          try {
            await squiggleOnLine(page, 'features = np.load(path)', 1_000);
            return true;
          } catch {
            return false;
          }
        };
        if (!(await onLoadLine())) fail('no ML102 squiggle to start with');
        // As a person would: edit the user settings.json in the editor (code-server does not
        // notice a settings file changed behind its back).
        const editSettings = async (json) => {
          await page.keyboard.press('Control+Shift+P');
          await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
          await page.keyboard.type('Preferences: Open User Settings (JSON)');
          await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open User Settings (JSON)' }).first().waitFor();
          await page.keyboard.press('Enter');
          await page.locator('.tab.active', { hasText: 'settings.json' }).waitFor({ timeout: 10_000 });
          await sleep(500);
          // Paste (typing would auto-indent and auto-close brackets).
          await page.evaluate((text) => navigator.clipboard.writeText(text), json);
          await page.keyboard.press('Control+A');
          await page.keyboard.press('Control+V');
          await sleep(300);
          await page.keyboard.press('Control+S');
          await sleep(500);
          await shot(page, `12-settings-${json.includes('ML102') ? 'ignore' : 'restored'}`);
          await page.keyboard.press('Control+W');
          await page.locator('.tab.active', { hasText: FILE }).waitFor({ timeout: 10_000 });
        };
        await editSettings(JSON.stringify({ ...JSON.parse(original), 'memlens.ignore': ['ML102'] }, null, 2));
        let end = Date.now() + 20_000;
        while (Date.now() < end && (await onLoadLine())) await sleep(250);
        if (await onLoadLine()) fail('the ML102 squiggle stayed after memlens.ignore = ["ML102"]');
        await shot(page, '12-ignore-setting');
        log(`with ML102 ignored: ${await squiggles()} squiggles`);
        await editSettings(original);
        end = Date.now() + 20_000;
        while (Date.now() < end && !(await onLoadLine())) await sleep(250);
        if (!(await onLoadLine())) fail('the ML102 squiggle did not come back after the setting was removed');
      });

      await check(14, 'a run that raises: error notification, traceback in the Output channel', async () => {
        await page.keyboard.press('Escape');
        await closePanel(page);
        const lens = await waitLens(page, 'def explode(', /Profile memory/i);
        await lens.locator('a', { hasText: /Profile memory/i }).first().click();
        const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: /raised ValueError/ }).first();
        await toast.waitFor({ timeout: 60_000 });
        await toast.hover();
        await toast.locator('.monaco-button', { hasText: 'Show Output' }).click();
        const output = page.locator('.part.panel .monaco-editor .view-lines');
        await output.waitFor({ timeout: 10_000 });
        const end = Date.now() + 10_000;
        let text = '';
        while (Date.now() < end && !(text.includes('Traceback') && text.includes('bad batch of 1000 rows'))) {
          await sleep(250);
          text = (await output.textContent()).replace(/\u00a0/g, ' ');
        }
        if (!text.includes('Traceback') || !text.includes('bad batch of 1000 rows'))
          fail(`the Output channel has no traceback: ${text.slice(-400)}`);
        await shot(page, '14-raised-traceback');
        await closePanel(page);
      });

      if (results.some((r) => !r.ok)) await dumpOutputChannel(page, 'fixture-output-channel');
      await page.close();
    }

    if (wanted(15)) {
      // The notebook editor that ships with VS Code (no Jupyter extension, no kernel): the cells
      // are synced to the server as a notebook, and each finding shows in its cell.
      const server = servers.find((s) => s.name === 'trusted') ?? (await startCodeServer('trusted', { trustEnabled: false }));
      if (!servers.includes(server)) servers.push(server);
      const folder = makeWorkspace('notebook', NOTEBOOK_FIXTURE);
      const findings = expectNotebook(join(folder, NOTEBOOK));
      const page = await openWorkbench(browser, server, folder, 'notebook');
      await check(15, `${NOTEBOOK} in the notebook editor: a squiggle in a cell and its Problems entries`, async () => {
        if (findings.length === 0) fail(`memlens check finds nothing in ${NOTEBOOK}: the check needs a finding`);
        log(`${NOTEBOOK}: ${findings.map((f) => `${f.code} in cell ${f.cell}`).join(', ')}`);
        await page.locator('.part.editor').click({ position: { x: 300, y: 300 } }).catch(() => {});
        await page.keyboard.press('Control+P');
        await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
        await page.keyboard.type(NOTEBOOK);
        await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${NOTEBOOK}"]`, { timeout: 15_000 });
        await page.keyboard.press('Enter');
        // The cells' editors live in `.notebookOverlay`, a child of the workbench laid over the
        // editor part (not inside `.part.editor`); it may have no size of its own: attached.
        const notebook = page.locator('.notebookOverlay').first();
        await notebook.waitFor({ state: 'attached', timeout: 30_000 });
        // Cells out of view have no editor (the notebook editor renders what is on screen): the
        // first finding's Problems entry brings its cell into view, where it is squiggled.
        const first = findings[0];
        const firstLine = JSON.parse(readFileSync(join(folder, NOTEBOOK), 'utf8')).cells[first.cell - 1].source.join('').split('\n')[first.location.row - 1].trim();
        await page.keyboard.press('Control+Shift+M');
        const firstRow = page.locator('.markers-panel .monaco-list-row', { hasText: first.code }).first();
        await firstRow.waitFor({ timeout: 60_000 });
        await firstRow.click();
        const inView = Date.now() + 15_000;
        let firstSquiggled = false;
        while (Date.now() < inView && !firstSquiggled) {
          firstSquiggled = await page.evaluate((needle) => [...document.querySelectorAll('.notebookOverlay .cell-editor-container .monaco-editor')].some(
            (e) => e.querySelector('[class*="squiggly-"]') && e.querySelector('.view-lines').textContent.replace(/\u00a0/g, ' ').includes(needle)), firstLine.slice(0, 20));
          if (!firstSquiggled) await sleep(250);
        }
        if (!firstSquiggled) fail(`no squiggle in the cell of ${first.code} ("${firstLine}")`);
        for (const f of findings) {
          const row = page.locator('.markers-panel .monaco-list-row', { hasText: f.code }).first();
          await row.waitFor({ timeout: 30_000 });
          const text = await row.textContent();
          if (!text.includes('memlens')) fail(`Problems row has no "memlens" source: ${text}`);
          if (!text.includes(f.message.slice(0, 30))) fail(`Problems row lacks the message: ${text}`);
        }
        const rows = await page.locator('.markers-panel .monaco-list-row', { hasText: /memlens/ }).count();
        log(`Problems view: ${rows} memlens rows, memlens check finds ${findings.length}`);
        if (rows !== findings.length) fail(`${rows} memlens rows in Problems, memlens check finds ${findings.length}`);
        // The last finding's Problems entry leads to its cell (scrolled into view), squiggled.
        const last = findings[findings.length - 1];
        const lastLine = JSON.parse(readFileSync(join(folder, NOTEBOOK), 'utf8')).cells[last.cell - 1].source.join('').split('\n')[last.location.row - 1].trim();
        await page.locator('.markers-panel .monaco-list-row', { hasText: last.code }).first().click();
        const end = Date.now() + 15_000;
        let squiggled = false;
        while (Date.now() < end && !squiggled) {
          squiggled = await page.evaluate((needle) => [...document.querySelectorAll('.notebookOverlay .cell-editor-container .monaco-editor')].some(
            (e) => e.querySelector('[class*="squiggly-"]') && e.querySelector('.view-lines').textContent.replace(/\u00a0/g, ' ').includes(needle)), lastLine.slice(0, 25));
          if (!squiggled) await sleep(250);
        }
        if (!squiggled) fail(`no squiggle in the cell of ${last.code} ("${lastLine}") after its Problems entry was clicked`);
        await sleep(500);
        await shot(page, '15-notebook-cell-problems');
      });
      if (results.some((r) => !r.ok && r.n === 15)) await dumpOutputChannel(page, 'notebook-output-channel');
      await page.close();
    }

    if (wanted(5)) {
      const server = await startCodeServer('untrusted', { trustEnabled: true });
      servers.push(server);
      const folder = makeWorkspace('untrusted');
      const page = await openWorkbench(browser, server, folder, 'untrusted');
      await check(5, 'untrusted workspace: profiling is refused with a message', async () => {
        await openFile(page, FILE);
        const defLine = `def ${PROFILE_FUNCTION}(`;
        const lens = await waitLens(page, defLine, /Profile memory/i, 45_000);
        await lens.locator('a', { hasText: /Profile memory/i }).first().click();
        const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: /not trusted/i }).first();
        await toast.waitFor({ timeout: 10_000 });
        await sleep(800); // let the toast finish sliding in
        await shot(page, '5-untrusted-refused');
        if ((await inlayHints(page)).length > 0) fail('profile results appeared in an untrusted workspace');
      });
      if (results.some((r) => !r.ok && r.n === 5)) await dumpOutputChannel(page, 'untrusted-output-channel');
      await page.close();
    }

    if (wanted(9)) {
      // An interpreter without memlens: a fresh venv. One notification names it; Install
      // pip-installs the wheel bundled in the VSIX (dependencies from the package index).
      const venv = join(OUT, 'missing', 'venv');
      mkdirSync(dirname(venv), { recursive: true });
      const basePython = execFileSync(PYTHON, ['-c', 'import sys; print(sys._base_executable)'], { encoding: 'utf8' }).trim();
      execFileSync(basePython, ['-m', 'venv', venv]);
      const bare = join(venv, 'bin', 'python');
      const server = await startCodeServer('missing', { trustEnabled: false, settings: { 'memlens.interpreter': bare } });
      servers.push(server);
      const folder = makeWorkspace('missing');
      const page = await openWorkbench(browser, server, folder, 'missing');
      await check(9, 'memlens missing from the interpreter: one notification; Install makes it work', async () => {
        await openFile(page, FILE);
        const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: /not installed/ });
        await toast.first().waitFor({ timeout: 30_000 });
        const message = await toast.first().locator('.notification-list-item-message').textContent();
        if (!message.includes(bare)) fail(`the notification does not name the interpreter: ${message}`);
        for (const action of ['Install', 'Select Interpreter', 'Open Settings']) {
          if ((await toast.first().locator('.monaco-button', { hasText: action }).count()) === 0)
            fail(`the notification has no "${action}" action`);
        }
        await sleep(3000);
        if ((await toast.count()) !== 1) fail(`${await toast.count()} notifications about the missing memlens`);
        await shot(page, '9a-memlens-missing');
        // Dismissed, it comes back from the status bar item (a warning, until memlens runs).
        await toast.first().hover();
        await toast.first().locator('.codicon-notifications-clear').first().click();
        await toast.first().waitFor({ state: 'detached', timeout: 5_000 });
        const status = page.locator('.statusbar-item', { hasText: /^\s*memlens\s*$/ }).first();
        await status.click();
        await toast.first().waitFor({ timeout: 10_000 });
        await sleep(500);
        await toast.first().hover();
        await toast.first().locator('.monaco-button', { hasText: 'Install' }).click();
        await page
          .locator('.notifications-toasts .notification-list-item', { hasText: /Installing memlens/ })
          .first()
          .waitFor({ timeout: 10_000 });
        await sleep(800); // let the toast finish sliding in
        await shot(page, '9b-installing');
        await page.waitForSelector('.monaco-editor [class*="squiggly-"]', { timeout: 240_000 });
        await squiggleOnLine(page, 'features = np.load(path)');
        const probe = execFileSync(bare, ['-c', 'import memlens, sys; print(memlens.__file__)'], { encoding: 'utf8' });
        if (!probe.includes(venv)) fail(`memlens was not installed into the venv: ${probe}`);
        await sleep(500);
        await shot(page, '9c-installed-working');
      });
      if (results.some((r) => !r.ok && r.n === 9)) await dumpOutputChannel(page, 'missing-output-channel');
      await page.close();
    }
  } finally {
    await browser.close();
    stopAll();
    if (!KEEP) {
      for (const name of ['trusted', 'fixture', 'untrusted', 'missing']) rmSync(join(OUT, name, 'extensions'), { recursive: true, force: true });
      rmSync(WS, { recursive: true, force: true });
      rmSync(join(OUT, 'missing', 'venv'), { recursive: true, force: true });
    }
  }
}

let fatal;
try {
  await main();
} catch (err) {
  fatal = err;
  console.error(`[e2e] ${err.stack ?? err.message}`);
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed + (fatal ? 1 : 0);
for (const r of results.filter((r) => !r.ok)) console.log(`  failed: ${r.n}. ${r.title}`);
for (const n of skipped) console.log(`  pending: ${n}. ${PENDING[n]}`);
console.log(`screenshots: ${OUT}`);
console.log(`${passed} passed, ${failed} failed${skipped.length ? `, ${skipped.length} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
