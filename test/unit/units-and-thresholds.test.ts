import { describe, expect, it } from 'vitest';
import { parseDuration, parsePortRange, parseRate } from '../../src/core/units.ts';
import { evaluateThresholds, parseThreshold } from '../../src/core/thresholds.ts';

describe('units', () => {
  it('parses durations, rates and port ranges', () => {
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(40)).toBe(40);
    expect(parseRate('300/s')).toBe(300);
    expect(parseRate('600/m')).toBe(10);
    expect(parsePortRange('40000-40999')).toEqual({ lo: 40000, hi: 40999 });
    expect(parsePortRange('32768 60999')).toEqual({ lo: 32768, hi: 60999 });
  });

  it('says what is wrong with a bad value', () => {
    expect(() => parseDuration('5 sec')).toThrow(/not a duration/);
    expect(() => parseRate('0/s')).toThrow(/positive/);
    expect(() => parsePortRange('5000-4000')).toThrow(/LO <= HI/);
  });
});

describe('thresholds', () => {
  it('evaluates paths into the report', () => {
    const report = { actors: { flood: { errors: { EADDRNOTAVAIL: { count: 3 } } } }, hosts: { s: { tw: 0 } } };
    const [a, b] = evaluateThresholds(report, ['actors.flood.errors.EADDRNOTAVAIL.count > 0', 'hosts.s.tw >= 1']);
    expect(a).toEqual({ expression: 'actors.flood.errors.EADDRNOTAVAIL.count > 0', value: 3, ok: true });
    expect(b).toMatchObject({ value: 0, ok: false });
  });

  it('reads keys that hold dots themselves, such as kernel counters', () => {
    const report = { hosts: { proxy: { counters: { delta: { 'Tcp.ActiveOpens': 7, 'TcpExt.TW': 0 } } } } };
    const [a, b, c] = evaluateThresholds(report, [
      'hosts.proxy.counters.delta.Tcp.ActiveOpens < 10',
      'hosts.proxy.counters.delta.TcpExt.TW == 0',
      'hosts.proxy.counters.delta.Tcp.Nope == 0',
    ]);
    expect(a).toMatchObject({ value: 7, ok: true });
    expect(b).toMatchObject({ value: 0, ok: true });
    expect(c).toMatchObject({ value: null, ok: false });
  });

  it('fails a threshold whose metric is missing, rather than passing it', () => {
    const [r] = evaluateThresholds({}, ['actors.flood.errors.EADDRNOTAVAIL.count == 0']);
    expect(r).toMatchObject({ ok: false, value: null, reason: 'metric missing from the report' });
  });

  it('reads an error code that never happened as 0 where the actor has an error list, and missing where there is no such actor', () => {
    const report = { actors: { flood: { errors: { ECONNRESET: { count: 2 } } }, web: { accepted: 5 } } };
    const [unseen, seen, noList, noActor] = evaluateThresholds(report, [
      'actors.flood.errors.EADDRNOTAVAIL.count == 0',
      'actors.flood.errors.ECONNRESET.count == 0',
      'actors.web.errors.EADDRNOTAVAIL.count == 0',
      'actors.nobody.errors.EADDRNOTAVAIL.count == 0',
    ]);
    expect(unseen).toMatchObject({ value: 0, ok: true });
    expect(seen).toMatchObject({ value: 2, ok: false });
    expect(noList).toMatchObject({ value: null, ok: false, reason: 'metric missing from the report' });
    expect(noActor).toMatchObject({ value: null, ok: false, reason: 'metric missing from the report' });
  });

  it('rejects malformed expressions', () => {
    expect(() => parseThreshold('p99 is low')).toThrow(/not "<path> <op> <number>"/);
  });
});
