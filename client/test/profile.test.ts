import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asksForCall,
  callKey,
  callTemplate,
  findFunctionHeader,
  isProfileArgs,
  needsCallExpression,
  report,
  summarize,
} from '../src/profile';

const SRC = `import numpy as np

def load():
    return np.zeros(10)

def train(model, X: np.ndarray, y=None, *, epochs: int = 3, seed):
    return model

class Trainer:
    def fit(self, X,
            y: "list[int]" = [1, 2],  # labels
            **kw):
        pass

    @classmethod
    def build(cls):
        return cls()
`;

describe('findFunctionHeader', () => {
  it('parses positional, keyword-only, defaulted and annotated parameters', () => {
    const h = findFunctionHeader(SRC, 'train', 5);
    assert.ok(h);
    assert.equal(h.line, 5);
    assert.deepEqual(
      h.params.map((p) => [p.name, p.kind, p.hasDefault]),
      [
        ['model', 'positional', false],
        ['X', 'positional', false],
        ['y', 'positional', true],
        ['epochs', 'keyword', true],
        ['seed', 'keyword', false],
      ],
    );
  });

  it('follows a signature over several lines, with comments', () => {
    const h = findFunctionHeader(SRC, 'Trainer.fit', 9);
    assert.ok(h);
    assert.deepEqual(
      h.params.map((p) => p.name),
      ['self', 'X', 'y', 'kw'],
    );
    assert.equal(h.params[2].defaultText, '[1, 2]');
  });

  it('returns undefined for an unknown function', () => {
    assert.equal(findFunctionHeader(SRC, 'missing', 0), undefined);
  });
});

describe('callTemplate (the input box pre-fill)', () => {
  it('writes the signature as a call', () => {
    assert.equal(callTemplate('train', findFunctionHeader(SRC, 'train')), 'train(model, X, y=None, epochs=3, seed=seed)');
  });
  it('calls a method on a fresh instance, without self', () => {
    assert.equal(callTemplate('Trainer.fit', findFunctionHeader(SRC, 'Trainer.fit')), 'Trainer().fit(X, y=[1, 2])');
  });
  it('works without a header', () => {
    assert.equal(callTemplate('f', undefined), 'f()');
  });
});

describe('needsCallExpression', () => {
  const base = { uri: 'file:///m.py', line: 5, qualname: 'train' };
  it("follows the server's needsCall flag from the lens", () => {
    assert.equal(needsCallExpression({ ...base, needsCall: true }), true);
    assert.equal(needsCallExpression({ ...base, needsCall: false }), false);
  });
  it('asks nothing before the run without the flag (the server answers needs_call then)', () => {
    assert.equal(needsCallExpression(base), false);
  });
  it('is false when a call or an entry is given', () => {
    assert.equal(needsCallExpression({ ...base, needsCall: true, call: 'train(1, 2, seed=0)' }), false);
    assert.equal(needsCallExpression({ ...base, needsCall: true, entry: 'script' }), false);
  });
});

describe('results', () => {
  it('asksForCall reads the error kind, never the message', () => {
    assert.equal(asksForCall({ status: 'setup_error', error: { kind: 'needs_call', message: 'train needs arguments' } }), true);
    assert.equal(asksForCall({ status: 'setup_error', error: { kind: 'missing_dependency', message: 'give --call' } }), false);
    assert.equal(asksForCall({ status: 'raised', error: { kind: 'raised', message: 'missing 1 required positional argument' } }), false);
  });

  it('summarize says the peak and duration', () => {
    assert.equal(summarize('train', { status: 'ok', peak_mib: 123.456, duration_s: 1.5 }), 'train: peak 123 MiB in 1.50 s');
    assert.equal(summarize('f', { status: 'ok', peak_mib: 12.34 }), 'f: peak 12.3 MiB');
    assert.match(summarize('f', { status: 'raised', error: { type: 'ValueError', message: 'bad' } }), /raised ValueError: bad/);
  });

  it('report lists the hottest lines and the traceback', () => {
    const text = report('f', {
      status: 'raised',
      lines: [
        { line: 3, increment_mib: 1 },
        { line: 4, increment_mib: 80 },
      ],
      error: { type: 'MemoryError', message: '', traceback: 'Traceback (most recent call last):\n  ...\nMemoryError' },
    });
    const lines = text.split('\n');
    assert.match(lines[1], /line 4: \+80\.0 MiB/);
    assert.match(lines[2], /line 3/);
    assert.match(text, /Traceback \(most recent call last\)/);
  });

  it('isProfileArgs and callKey', () => {
    assert.equal(isProfileArgs({ uri: 'file:///a.py', qualname: 'f', line: 1 }), true);
    assert.equal(isProfileArgs({ uri: 'file:///a.py' }), false);
    assert.equal(isProfileArgs(undefined), false);
    assert.equal(callKey('file:///a.py', 'C.f'), 'memlens.call:file:///a.py#C.f');
  });
});
