import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, mapSettings, SENT } from '../src/settings';

const getter = (values: Record<string, unknown>) => (key: string) => values[key];

describe('mapSettings: VS Code settings -> server settings', () => {
  it('gives the defaults for an empty configuration, without select/ignore (the project config applies)', () => {
    assert.deepEqual(mapSettings(getter({})), {
      checkTimeoutSeconds: DEFAULTS.checkTimeoutSeconds,
      profile: { timeoutSeconds: DEFAULTS.timeoutSeconds, memoryLimitMb: null, hotLineThresholdMb: DEFAULTS.hotLineThresholdMb },
    });
  });

  it('maps every setting', () => {
    const s = mapSettings(
      getter({
        select: ['ML1', 'ML206'],
        ignore: ['ML104'],
        checkTimeoutSeconds: 5,
        'profile.timeoutSeconds': 30,
        'profile.memoryLimitMb': 2048,
        'profile.hotLineThresholdMb': 10,
      }),
    );
    assert.deepEqual(s, {
      select: ['ML1', 'ML206'],
      ignore: ['ML104'],
      checkTimeoutSeconds: 5,
      profile: { timeoutSeconds: 30, memoryLimitMb: 2048, hotLineThresholdMb: 10 },
    });
  });

  it('normalizes rule lists: trims, upper-cases, drops blanks, non-strings and duplicates', () => {
    const s = mapSettings(getter({ select: [' ml1 ', '', 3, 'ML1', 'ml102'], ignore: 'ML104, ml105' }));
    assert.equal('select' in mapSettings(getter({ select: ['', ' '], ignore: [] })), false);
    assert.equal('ignore' in mapSettings(getter({ select: ['', ' '], ignore: [] })), false);
    assert.deepEqual(s.select, ['ML1', 'ML102']);
    assert.deepEqual(s.ignore, ['ML104', 'ML105']);
  });

  it('memoryLimitMb 0 means no limit', () => {
    assert.equal(mapSettings(getter({ 'profile.memoryLimitMb': 0 })).profile.memoryLimitMb, null);
  });

  it('falls back to defaults for invalid numbers', () => {
    const s = mapSettings(
      getter({
        checkTimeoutSeconds: Infinity,
        'profile.timeoutSeconds': 0,
        'profile.memoryLimitMb': -5,
        'profile.hotLineThresholdMb': 'many',
      }),
    );
    assert.equal(s.checkTimeoutSeconds, DEFAULTS.checkTimeoutSeconds);
    assert.equal(s.profile.timeoutSeconds, DEFAULTS.timeoutSeconds);
    assert.equal(s.profile.memoryLimitMb, null);
    assert.equal(s.profile.hotLineThresholdMb, DEFAULTS.hotLineThresholdMb);
  });

  it('sends exactly the settings of its table (SENT), under their package.json keys', () => {
    const all = getter({
      select: ['ML1'],
      ignore: ['ML104'],
      checkTimeoutSeconds: 5,
      'profile.timeoutSeconds': 30,
      'profile.memoryLimitMb': 2048,
      'profile.hotLineThresholdMb': 10,
    });
    const flat = (value: object, prefix = ''): string[] =>
      Object.entries(value).flatMap(([key, inner]) =>
        inner !== null && typeof inner === 'object' && !Array.isArray(inner)
          ? flat(inner, `${prefix}${key}.`)
          : [`${prefix}${key}`],
      );
    assert.deepEqual(flat(mapSettings(all, '/v/bin/python')).sort(), Object.keys(SENT).sort());
  });

  it('accepts numeric strings', () => {
    assert.equal(mapSettings(getter({ 'profile.timeoutSeconds': '12.5' })).profile.timeoutSeconds, 12.5);
  });
});

it('mapSettings passes the profile interpreter when there is one', () => {
  assert.equal(mapSettings(getter({}), '/v/bin/python').interpreter, '/v/bin/python');
  assert.equal('interpreter' in mapSettings(getter({})), false);
});
