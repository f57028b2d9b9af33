import { describe, expect, it } from 'vitest';
import { natInsertRaceFindings } from '../../../src/report/findings/nat-insert-race.ts';
import { findingsWithClaims } from '../../../src/report/findings/index.ts';
import { contradictions } from '../../../src/report/truth-check.ts';
import { stat, type Report } from '../../../src/report/report.ts';
import { host, loadReportFixture, runFindings } from '../fixture.ts';

const CLIENTS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'];

/** The run as it was, or with the gateway's clashes given: insert_failed and drop, and SYNs resent on c1. */
function run(name: string, clashes = 0): Report {
  const report = loadReportFixture(name);
  if (clashes) {
    Object.assign(host(report, 'gw').counters.delta, { 'Conntrack.insert_failed': clashes, 'Conntrack.drop': clashes });
    host(report, 'c1').counters.delta['TcpExt.TCPSynRetrans'] = clashes;
  }
  return report;
}

describe('natInsertRaceFindings', () => {
  it("nat-gateway-insert-race: claims the gateway's found, insert_failed and drop, the clients' connections and resent SYNs, and the predicted share", () => {
    const report = run('nat-gateway-insert-race');
    const [f, more] = runFindings(natInsertRaceFindings, report);
    expect(more).toBeUndefined();
    expect(f!).toMatchObject({ rule: 'nat-insert-race', host: 'gw', peers: CLIENTS });
    const value = (name: string, of?: string) => f!.claims.find((c) => c.name === name && c.of === of)?.value;
    const gw = host(report, 'gw').counters.delta;
    expect(value('counter', 'Conntrack.found')).toBe(gw['Conntrack.found']);
    expect(value('conntrackInsertFailed')).toBe(0);
    expect(value('counter', 'Conntrack.drop')).toBe(0);
    expect(value('synRetransmits')).toBe(0);
    expect(value('connections')).toBe(
      CLIENTS.reduce((s, c) => s + (stat(report.actors[`from-${c}`], 'connected') ?? 0), 0),
    );
    expect(value('prediction', 'natRace.predictedShare')).toBe(0.875);
    expect(f!.text).toContain('the insertion race did not occur in this run');
    expect(f!.text).toContain('(predicted 1 - 1 / 8 = 87.5%)');
  });

  it('says the race occurred, with ports to spare, when insert_failed moved without fully-random', () => {
    const [f] = runFindings(natInsertRaceFindings, run('nat-gateway-insert-race', 3));
    expect(f!.text).toContain(
      'Conntrack.insert_failed +3: that many SYNs found the port free at the same moment as another SYN',
    );
    expect(f!.text).toContain(
      'the insertion race, with ports to spare. The gateway dropped those SYNs (Conntrack.drop +3)',
    );
    expect(f!.text).toContain('(TcpExt.TCPSynRetrans +3 on the client hosts, host-wide)');
  });

  it('with fully-random: no source port kept, and whether two SYNs drew one port', () => {
    const [quiet] = runFindings(natInsertRaceFindings, run('nat-gateway-insert-race--random-fully'));
    expect(quiet!.text).toContain(
      "With fully-random the NAT kept no SYN's own source port and drew a random one of 64,512 for each",
    );
    expect(quiet!.text).toContain('Conntrack.insert_failed +0: no two SYNs drew one port at the same moment');
    const [clash] = runFindings(natInsertRaceFindings, run('nat-gateway-insert-race--random-fully', 1));
    expect(clash!.text).toContain('Conntrack.insert_failed +1: two SYNs at the same moment drew the same port');
  });

  it('passes the truth check, and a claim its evidence does not give fails it', () => {
    const report = run('nat-gateway-insert-race', 2);
    const { findings, claims } = findingsWithClaims(report.scenario.plan, report);
    expect(contradictions({ ...report, findings, claims })).toEqual([]);
    const lying = claims.map((f) =>
      f.rule === 'nat-insert-race'
        ? { ...f, claims: f.claims.map((c) => (c.name === 'conntrackInsertFailed' ? { ...c, value: 0 } : c)) }
        : f,
    );
    expect(contradictions({ ...report, findings, claims: lying }).map((c) => c.claim)).toEqual([
      `conntrackInsertFailed 0 connections (host gw, peers ${CLIENTS.join(', ')})`,
    ]);
  });

  it('says nothing where no prediction names SYNs sharing a source port (pools through a port range, an open-model flood)', () => {
    for (const name of ['nat-gateway-snat', 'nat-single-source'])
      expect(runFindings(natInsertRaceFindings, loadReportFixture(name))).toEqual([]);
  });
});
