// nat-gateway-insert-race: eight clients with one shared source port (a one-port ip_local_port_range each) open
// short connections to one server through a masquerading gateway, with and without fully-random, over the same
// load. Evidence: the gateway's conntrack counters in its own namespace (found, insert_failed, drop), the clients'
// SYN retransmissions and errors, and the machine's own forwarding and ruleset, untouched.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const CLIENTS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'];
// The same bounded load for both runs: 8 clients x 1 connection at once, at most 400 each, at most 8 s.
const LOAD = { duration: '8s', count: '400' };
const conntrack = (r: TestReport, name: string) => r.hosts.gw!.counters.delta[`Conntrack.${name}`] ?? 0;
const sum = (r: TestReport, key: string) => CLIENTS.reduce((s, c) => s + (r.hosts[c]!.counters.delta[key] ?? 0), 0);
const connected = (r: TestReport) => CLIENTS.reduce((s, c) => s + (r.actors[`from-${c}`]!['connected'] as number), 0);
const race = (r: TestReport) => r.predictions['from-c1']!.natRace!;
const finding = (r: TestReport) => r.claims!.find((f) => f.rule === 'nat-insert-race')!;
const claim = (r: TestReport, name: string, of?: string) =>
  finding(r).claims.find((c) => c.name === name && c.of === of)!.value;
// The machine's own forwarding, and whether its own nftables ruleset holds the lab's NAT table (it must live in the
// gateway's namespace only); not the whole ruleset, which other software on the machine may change meanwhile.
const machine = () => ({
  forward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'),
  labTable: execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes('waitlab_nat'),
});

describeWithTools(['nft'], 'nat-gateway-insert-race scenario', () => {
  let before: ReturnType<typeof machine>;
  let kept: TestReport;
  let random: TestReport;
  beforeAll(async () => {
    before = machine();
    ({ report: kept } = await runShort('nat-gateway-insert-race', LOAD));
    ({ report: random } = await runShort('nat-gateway-insert-race', { ...LOAD, randomFully: '1' }));
    // Two labs of eleven hosts one after the other: each took 25-45 s on the loaded 2-core machine.
  }, 180_000);
  afterAll(() => {
    expect(machine()).toEqual(before);
  });

  it('without fully-random, 7 in 8 SYNs find the shared source port held and are translated: Conntrack.found over connections as predicted', () => {
    expect(race(kept)).toMatchObject({
      gateway: 'gw',
      destination: '198.18.1.2:8080',
      atOnce: 8,
      sharedSourcePorts: 1,
      translatedPorts: 64512,
      randomFully: false,
      predictedShare: 0.875,
    });
    expect(race(kept).found).toBe(conntrack(kept, 'found'));
    expect(race(kept).connections).toBe(connected(kept));
    // All but the holder's SYNs, and the holder's share of the connections drifts with scheduling: 15% either way.
    expect(race(kept).ratio).toBeGreaterThanOrEqual(0.85);
    expect(race(kept).ratio).toBeLessThanOrEqual(1.15);
    expect(kept.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it('every clash is a dropped SYN its client sent again, never an error: drop = insert_failed <= SYN retransmits', () => {
    for (const r of [kept, random]) {
      expect(conntrack(r, 'drop')).toBe(conntrack(r, 'insert_failed'));
      expect(conntrack(r, 'early_drop')).toBe(0);
      // A TCP clash is dropped, never resolved: clash_resolve is for protocols that allow clashes (UDP).
      expect(conntrack(r, 'clash_resolve')).toBe(0);
      expect(sum(r, 'TcpExt.TCPSynRetrans')).toBeGreaterThanOrEqual(conntrack(r, 'insert_failed'));
      expect(CLIENTS.map((c) => r.actors[`from-${c}`]!['errorCount'])).toEqual(CLIENTS.map(() => 0));
    }
  });

  it('fully-random keeps no source port: almost no SYN meets a held port, none clashes, no more clashes than without it', () => {
    expect(race(random)).toMatchObject({ randomFully: true, predictedShare: 0, ratio: null });
    expect(conntrack(random, 'found')).toBeLessThanOrEqual(connected(random) / 100);
    expect(conntrack(random, 'insert_failed')).toBe(0);
    expect(conntrack(random, 'insert_failed')).toBeLessThanOrEqual(conntrack(kept, 'insert_failed'));
    expect(random.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it("the finding states the gateway's own counts, and whether the race occurred", () => {
    for (const r of [kept, random]) {
      expect(claim(r, 'counter', 'Conntrack.found')).toBe(conntrack(r, 'found'));
      expect(claim(r, 'conntrackInsertFailed')).toBe(conntrack(r, 'insert_failed'));
      expect(claim(r, 'synRetransmits')).toBe(sum(r, 'TcpExt.TCPSynRetrans'));
      expect(claim(r, 'connections')).toBe(connected(r));
    }
    const text = kept.findings[finding(kept).finding]!;
    expect(text).toContain(
      conntrack(kept, 'insert_failed') > 0
        ? 'the insertion race, with ports to spare'
        : 'the insertion race did not occur in this run',
    );
    expect(random.findings[finding(random).finding]).toContain(
      "With fully-random the NAT kept no SYN's own source port",
    );
  });
});
