// Bundles the extension (client/src/extension.ts -> client/out/extension.js) with esbuild.
//   --production   minify, no source maps (what `npm run package` ships)
//   --watch        rebuild on change
//   --tests        also bundle client/test/*.test.ts -> client/out/test/ for `node --test`
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const clientDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const production = args.has('--production');

const extension = {
  entryPoints: [join(clientDir, 'src', 'extension.ts')],
  outfile: join(clientDir, 'out', 'extension.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
};

if (args.has('--watch')) {
  const ctx = await esbuild.context(extension);
  await ctx.watch();
  console.log('[memlens] watching client/src');
} else {
  await esbuild.build(extension);
  if (args.has('--tests')) {
    const testDir = join(clientDir, 'test');
    const tests = readdirSync(testDir).filter((f) => f.endsWith('.test.ts'));
    await esbuild.build({
      entryPoints: tests.map((f) => join(testDir, f)),
      outdir: join(clientDir, 'out', 'test'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // The unit-tested modules are pure: bundling `vscode` would fail loudly if one imported it.
      logLevel: 'warning',
    });
  }
}
