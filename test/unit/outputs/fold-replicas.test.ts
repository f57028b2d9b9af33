// The terminal summary of a host scaled to many replicas: the first three in full, the rest one line per table.
import { describe, expect, it } from 'vitest';
import { foldReplicas } from '../../../src/outputs/fold-replicas.ts';
import { summarySections } from '../../../src/outputs/summary-sections.ts';
import { renderText } from '../../../src/outputs/terminal-summary.ts';
import type { Report } from '../../../src/report/report.ts';
import { loadReportFixture } from '../fixture.ts';

/** short-conn's run with its client copied into client_2..client_N, as --scale client=N names them. */
function scaled(n: number): Report {
  const r = loadReportFixture('short-conn') as Report & Record<string, any>;
  const hosts = ['client'];
  const floods = ['flood'];
  const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const plan = r.scenario.plan as unknown as { hosts: Record<string, unknown>; actors: Record<string, unknown> };
  for (let i = 2; i <= n; i++) {
    const host = `client_${i}`;
    const flood = `flood_${i}`;
    r.hosts[host] = { ...copy(r.hosts['client']!), address: `198.18.0.${i + 2}` };
    r.actors[flood] = { ...copy(r.actors['flood']!), host };
    plan.hosts[host] = {
      ...copy(r.scenario.plan.hosts['client']!),
      name: host,
      address: `198.18.0.${i + 2}`,
    };
    plan.actors[flood] = { ...copy(r.scenario.plan.actors['flood']!), name: flood, host };
    const findings = r.findings.length;
    r.findings.push(`TIME_WAIT piled up on host ${host}: a copy of the client's finding.`);
    (r.claims ??= []).push({ finding: findings, rule: 'time-wait', host, peers: [], claims: [] });
    hosts.push(host);
    floods.push(flood);
  }
  r.replicas = {
    client: {
      hosts,
      timeWaitPeaks: hosts.map(() => 1000),
      actors: { flood: { replicas: floods, attempts: 0, connected: 0, ok: 0, missedStarts: 0, errors: {} } },
    },
  };
  return r;
}

describe('folding replicas in the terminal summary', () => {
  it('keeps three replicas in every table and list, and says how many more and where they are', () => {
    const text = renderText(scaled(8));
    for (const kept of ['client_2', 'client_3', 'flood_3']) expect(text).toContain(kept);
    // The folded ones appear only in the lines that fold them.
    const mentions = text.split('\n').filter((l) => /\b(client|flood)_[4-8]\b/.test(l));
    expect(mentions.length).toBeGreaterThan(0);
    for (const line of mentions) expect(line).toMatch(/client_4\.\.client_8 \(5 replicas of client\)/);
    expect(text).toMatch(/\+5 rows folded/);
    expect(text).toContain('5 more findings on client_4..client_8 (5 replicas of client)');
  });

  it('leaves a lab of up to four replicas, and summary.md, whole', () => {
    const four = scaled(4);
    expect(foldReplicas(four, summarySections(four))).toEqual(summarySections(four));
    expect(renderText(four)).toContain('client_4');
  });
});
