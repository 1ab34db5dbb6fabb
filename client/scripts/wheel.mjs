// Builds the memlens wheel that the VSIX ships (client/out/bundled/memlens-<version>-py3-none-any.whl),
// so that the extension can pip-install the server into an interpreter that lacks it.
// Built from a clean copy of the package sources, so no stale build/ folder leaks into it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'client', 'out', 'bundled');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const src = mkdtempSync(join(tmpdir(), 'memlens-wheel-'));
try {
  for (const file of ['pyproject.toml', 'README.md', 'LICENSE']) {
    if (existsSync(join(root, file))) cpSync(join(root, file), join(src, file));
  }
  cpSync(join(root, 'server'), join(src, 'server'), {
    recursive: true,
    filter: (p) => !['__pycache__', 'build'].includes(basename(p)) && !p.endsWith('.egg-info') && !p.endsWith('.pyc'),
  });
  const venvPython = join(root, '.venv', 'bin', 'python');
  const python = process.env.MEMLENS_WHEEL_PYTHON || (existsSync(venvPython) ? venvPython : 'python3');
  execFileSync(
    python,
    ['-m', 'pip', 'wheel', '--no-deps', '--quiet', '--disable-pip-version-check', '-w', outDir, src],
    { stdio: 'inherit', cwd: src },
  );
} finally {
  rmSync(src, { recursive: true, force: true });
}
const wheels = readdirSync(outDir).filter((f) => /^memlens-.*\.whl$/.test(f));
if (wheels.length !== 1) {
  throw new Error(`expected one memlens wheel in ${outDir}, found: ${wheels.join(', ') || 'none'}`);
}
console.log(`[memlens] bundled ${wheels[0]}`);
