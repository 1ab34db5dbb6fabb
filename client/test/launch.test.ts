import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandVariables, parseProbeOutput, pipInstallArgs, resolveProfileInterpreter, resolveServerLaunch } from '../src/launch';

describe('resolveServerLaunch: order serverCommand > interpreter > Python extension > PATH', () => {
  const all = {
    serverCommand: ['/opt/memlens/bin/memlens', 'serve', '--log-level', 'debug'],
    interpreter: '/venv/bin/python',
    activeInterpreter: '/home/u/.pyenv/versions/3.11/bin/python',
  };

  it('memlens.serverCommand wins over everything', () => {
    const launch = resolveServerLaunch(all);
    assert.equal(launch.source, 'memlens.serverCommand');
    assert.equal(launch.command, '/opt/memlens/bin/memlens');
    assert.deepEqual(launch.args, ['serve', '--log-level', 'debug']);
    assert.equal(launch.python, undefined);
  });

  it('memlens.interpreter comes next and runs `-m memlens serve`', () => {
    const launch = resolveServerLaunch({ ...all, serverCommand: [] });
    assert.deepEqual(launch, {
      command: '/venv/bin/python',
      args: ['-m', 'memlens', 'serve'],
      source: 'memlens.interpreter',
      python: '/venv/bin/python',
    });
  });

  it("then the Python extension's active interpreter", () => {
    const launch = resolveServerLaunch({ ...all, serverCommand: [], interpreter: '  ' });
    assert.equal(launch.source, 'python-extension');
    assert.equal(launch.python, all.activeInterpreter);
    assert.deepEqual(launch.args, ['-m', 'memlens', 'serve']);
  });

  it('then python3 on PATH', () => {
    const launch = resolveServerLaunch({});
    assert.equal(launch.source, 'PATH');
    assert.equal(launch.command, 'python3');
    assert.deepEqual(launch.args, ['-m', 'memlens', 'serve']);
  });

  it('ignores settings of the wrong type', () => {
    const launch = resolveServerLaunch({ serverCommand: 42, interpreter: ['x'], activeInterpreter: '' });
    assert.equal(launch.source, 'PATH');
  });

  it('splits a serverCommand given as one string', () => {
    const launch = resolveServerLaunch({ serverCommand: 'memlens  serve' });
    assert.equal(launch.command, 'memlens');
    assert.deepEqual(launch.args, ['serve']);
  });

  it('expands ${workspaceFolder} and ~ in the interpreter', () => {
    assert.equal(
      resolveServerLaunch({ interpreter: '${workspaceFolder}/.venv/bin/python', workspaceFolder: '/w/proj' }).python,
      '/w/proj/.venv/bin/python',
    );
    assert.equal(resolveServerLaunch({ interpreter: '~/venv/bin/python', home: '/home/u' }).python, '/home/u/venv/bin/python');
    assert.equal(
      resolveServerLaunch({ serverCommand: ['${userHome}/bin/memlens', 'serve'], home: '/home/u' }).command,
      '/home/u/bin/memlens',
    );
  });
});

describe('expandVariables', () => {
  it('leaves unknown variables and mid-path tildes alone', () => {
    assert.equal(expandVariables('/a/~b/${workspaceFolder}', {}), '/a/~b/${workspaceFolder}');
  });
  it('reads ${env:NAME}', () => {
    assert.equal(expandVariables('${env:VENV}/bin/python', { env: { VENV: '/v' } }), '/v/bin/python');
  });
});

describe('parseProbeOutput', () => {
  it('reads the last JSON line', () => {
    const out = 'some warning\n{"python": "/v/bin/python", "version": "3.11.2", "memlens": "0.1.0"}\n';
    assert.deepEqual(parseProbeOutput(out), { python: '/v/bin/python', version: '3.11.2', memlens: '0.1.0' });
  });
  it('reports a missing memlens', () => {
    const out = '{"python": "/usr/bin/python3", "version": "3.11.2", "error": "ModuleNotFoundError: No module named \'memlens\'"}';
    const probe = parseProbeOutput(out);
    assert.equal(probe?.memlens, undefined);
    assert.match(probe?.error ?? '', /No module named/);
  });
  it('gives undefined for garbage', () => {
    assert.equal(parseProbeOutput('Traceback ...'), undefined);
  });
});

it('pipInstallArgs installs the given wheel with its dependencies', () => {
  const args = pipInstallArgs('/ext/bundled/memlens-0.1.0-py3-none-any.whl');
  assert.deepEqual(args.slice(0, 3), ['-m', 'pip', 'install']);
  assert.equal(args[args.length - 1], '/ext/bundled/memlens-0.1.0-py3-none-any.whl');
  assert.ok(!args.includes('--no-deps'));
});

describe('resolveProfileInterpreter: the Python that runs profiled code', () => {
  it('is memlens.interpreter, even when memlens.serverCommand starts the server', () => {
    assert.equal(
      resolveProfileInterpreter({ serverCommand: ['memlens', 'serve'], interpreter: '/p/bin/python', activeInterpreter: '/a' }),
      '/p/bin/python',
    );
  });
  it("else the Python extension's interpreter", () => {
    assert.equal(resolveProfileInterpreter({ serverCommand: ['memlens', 'serve'], activeInterpreter: '/a/python' }), '/a/python');
  });
  it("else undefined: the server's own interpreter", () => {
    assert.equal(resolveProfileInterpreter({ serverCommand: ['memlens', 'serve'] }), undefined);
    assert.equal(resolveProfileInterpreter({}), undefined);
  });
});
