// A comparison of runs of a host scaled to many replicas: one column per group (its largest TIME_WAIT, its counters
// added up) and one sysctl row where every replica read the same, not a column and a row per replica.
import { describe, expect, it } from 'vitest';
import { matrixSections } from '../../../src/outputs/matrix-summary.ts';
import type { Report } from '../../../src/report/report.ts';
import { compareRuns, matrixRun } from '../../../src/report/matrix.ts';
import { loadReportFixture } from '../fixture.ts';

/** short-conn's run with its client copied into client_2..client_N, replica k holding 100 * k TIME_WAIT. */
function scaled(n: number, tcpTwReuse: string, odd = 'client_5'): Report {
  const r = loadReportFixture('short-conn') as Report & Record<string, any>;
  const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const hosts = ['client'];
  for (let i = 2; i <= n; i++) {
    const host = `client_${i}`;
    r.hosts[host] = copy(r.hosts['client']!);
    hosts.push(host);
  }
  hosts.forEach((h, k) => {
    r.hosts[h]!.peak.total.TIME_WAIT = 100 * (k + 1);
    r.hosts[h]!.counters.delta['TcpExt.TWRecycled'] = 1;
    r.hosts[h]!.sysctls['net.ipv4.tcp_tw_reuse'] = h === odd ? '0' : tcpTwReuse;
  });
  r.replicas = { client: { hosts, timeWaitPeaks: [], actors: {} } };
  const change = { 'net.ipv4.tcp_tw_reuse': { scenario: '0', profile: tcpTwReuse } };
  r.profile = {
    name: 'tw-reuse',
    description: '',
    source: 'built-in',
    changes: Object.fromEntries(hosts.map((h) => [h, change])),
  };
  return r;
}

describe('a comparison of scaled runs', () => {
  it('gives each group of replicas one column and one sysctl row where they agree', () => {
    const c = compareRuns(
      'short-conn',
      [matrixRun(scaled(8, '1'), 'a', '01', {}), matrixRun(scaled(8, '1'), 'b', '02', {})],
      null,
      {},
    );
    const [runs, sysctls] = matrixSections(c);
    expect(runs!.head).toContain('TIME_WAIT client x8 (most)');
    expect(runs!.head).toContain('TWRecycled/Overflow/TWKilled client x8 (sum)');
    expect(runs!.head!.some((h) => /client_\d/.test(h))).toBe(false);
    const at = (label: string) => runs!.rows![0]![runs!.head!.indexOf(label)];
    expect(at('TIME_WAIT client x8 (most)')).toBe('800');
    expect(at('TWRecycled/Overflow/TWKilled client x8 (sum)')).toBe('8 / 0 / 0');
    // client_5 read back another value: its row stays, and the group's row does not claim every replica.
    expect(sysctls!.rows!.filter((row) => row[0] === 'a')).toEqual([
      ['a', 'client', 'net.ipv4.tcp_tw_reuse', '1'],
      ['a', 'client_5', 'net.ipv4.tcp_tw_reuse', '0'],
    ]);
  });

  it('says so where every replica read back the same', () => {
    const c = compareRuns('short-conn', [matrixRun(scaled(8, '1', 'none'), 'a', '01', {})], null, {});
    expect(matrixSections(c)[1]!.rows).toEqual([['a', 'client x8 (every replica)', 'net.ipv4.tcp_tw_reuse', '1']]);
  });

  it('leaves a group of up to four replicas a column each', () => {
    const c = compareRuns('short-conn', [matrixRun(scaled(4, '1'), 'a', '01', {})], null, {});
    expect(matrixSections(c)[0]!.head).toContain('TIME_WAIT client_4');
  });
});
