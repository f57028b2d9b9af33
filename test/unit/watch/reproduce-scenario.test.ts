// doctor --reproduce without a lab: what it keeps of two snapshots, the scenario file it writes (typed values,
// a comment for each, loadable as it is), the JSON that crosses from a namespace, and hostile text from the host.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../../../src/plan/load-plan.ts';
import { nothingToReproduce, observeHost, type ObservedHost } from '../../../src/watch/reproduce-observation.ts';
import { parseObservedHost } from '../../../src/watch/reproduce-observed-json.ts';
import { writeReproduction } from '../../../src/watch/reproduce-scenario.ts';
import { stringLiteral } from '../../../src/watch/reproduce-source.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { destination, snapshot, states, SYSCTLS } from '../../helpers/watch-snapshot.ts';

const rates = (some: Partial<NonNullable<ReturnType<typeof snapshot>['rates']>>) => ({
  ...snapshot().rates!,
  seconds: 2,
  ...some,
});

/** A host running out of ports toward one destination (and holding one idle connection elsewhere), read 2 s apart. */
function exhaustingHost(host = 'wl1-client'): ObservedHost {
  const before = snapshot({ host });
  const after = snapshot({
    host,
    clientTimeWait: 520,
    rates: rates({ activeOpens: 150.2, timeWaitEntered: 149.8 }),
    destinations: [
      destination({
        destination: '10.1.2.3:443',
        ports: 525,
        ofBudget: 0.525,
        timeWait: 520,
        established: 2,
        other: 3,
        portsPerSecond: 149.5,
        exhaustionMs: 3177,
      }),
      destination({
        destination: '10.9.9.9:5432',
        ports: 1,
        ofBudget: 0.001,
        timeWait: 0,
        established: 1,
        portsPerSecond: 0,
      }),
    ],
  });
  return observeHost(before, after, 2000);
}

async function loads(source: string): Promise<Awaited<ReturnType<typeof loadPlan>>> {
  const file = join(tempDir(), 'reproduce.ts');
  writeFileSync(file, source);
  return loadPlan(file);
}

/** The file's tokens that are code: comments dropped, each string literal's content replaced by a mark. */
function codeTokens(source: string): string[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, source);
  const out: string[] = [];
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    if (t === ts.SyntaxKind.StringLiteral) out.push('"..."');
    else if (t === ts.SyntaxKind.NoSubstitutionTemplateLiteral || t === ts.SyntaxKind.TemplateHead)
      out.push(scanner.getTokenText());
    else out.push(scanner.getTokenText());
  }
  return out;
}

describe('what doctor --reproduce keeps of a host', () => {
  it('a destination running out with TIME_WAIT on its ports: its endpoint parsed, its growth as the connect rate; an idle one left out', () => {
    const o = exhaustingHost();
    expect(o.exhausting).toEqual([
      {
        endpoint: { octets: [10, 1, 2, 3], port: 443 },
        ports: 525,
        timeWait: 520,
        established: 2,
        other: 3,
        portsPerSecond: 149.5,
        connectRate: 149.5,
        rateFrom: 'port-growth',
        exhaustionMs: 3177,
      },
    ]);
    expect(o.sysctls).toEqual({
      portRange: { lo: 40000, hi: 40999 },
      twReuse: 2,
      twReuseDelayMs: 1000,
      timestamps: 1,
      finTimeoutSeconds: 60,
      maxTwBuckets: 262144,
      rfc1337: null,
      somaxconn: null,
    });
    expect(o.closeWait).toBeNull();
    expect(nothingToReproduce(o)).toBe(false);
  });

  it('a count that stopped growing is a steady state: TIME_WAIT / 60 s is the connect rate', () => {
    const after = snapshot({
      destinations: [destination({ destination: '10.1.2.3:443', ports: 900, timeWait: 900, portsPerSecond: 0 })],
    });
    expect(observeHost(snapshot(), after, 2000).exhausting[0]).toMatchObject({
      connectRate: 15,
      rateFrom: 'time-wait-steady',
    });
  });

  it("ports held ESTABLISHED, not in TIME_WAIT, are not a closer's exhaustion; a quiet host has nothing to reproduce", () => {
    const held = snapshot({
      destinations: [
        destination({
          destination: '10.1.2.3:443',
          ports: 900,
          timeWait: 10,
          established: 890,
          portsPerSecond: 5,
          exhaustionMs: 20_000,
        }),
      ],
    });
    expect(observeHost(snapshot(), held, 2000).exhausting).toEqual([]);
    expect(nothingToReproduce(observeHost(snapshot(), snapshot(), 2000))).toBe(true);
  });

  it('CLOSE_WAIT that grew: its rate over the reading, its holders; CLOSE_WAIT that fell is not a leak', () => {
    const holders = [{ pid: 4242, command: 'python3', closeWait: 60, finWait2: 0, fds: 70, fdLimit: 1024 }];
    const o = observeHost(
      snapshot({ states: states({ CLOSE_WAIT: 40 }) }),
      snapshot({ states: states({ CLOSE_WAIT: 60 }), holders, rates: rates({}) }),
      2000,
    );
    expect(o.closeWait).toEqual({
      count: 60,
      grew: 20,
      perSecond: 10,
      outgoing: 0,
      holders: [{ pid: 4242, command: 'python3', closeWait: 60 }],
    });
    expect(
      observeHost(
        snapshot({ states: states({ CLOSE_WAIT: 60 }) }),
        snapshot({ states: states({ CLOSE_WAIT: 40 }) }),
        2000,
      ).closeWait,
    ).toBeNull();
  });
});

describe('the scenario file doctor --reproduce writes', () => {
  it('loads as it is: the observed host with its sysctls as read, a server per destination, a flood at the measured rate', async () => {
    const r = writeReproduction(exhaustingHost());
    expect(r.name).toBe('reproduce-wl1-client');
    expect(r.floods.map((f) => f.actor)).toEqual(['flood1']);
    // 1,000 ports at 149.5/s fill in 6.7 s; the load runs 1.3 times that, rounded up.
    expect(r.loadSeconds).toBe(9);
    const plan = await loads(r.source);
    expect(Object.keys(plan.hosts)).toEqual(['observed', 'dest1']);
    // Every sysctl doctor read, as it read it.
    expect(plan.hosts.observed!.sysctls).toEqual(SYSCTLS);
    expect(plan.actors.server1).toMatchObject({
      host: 'dest1',
      options: { port: 443, keepAlive: false, closer: 'client' },
    });
    expect(plan.actors.flood1).toMatchObject({
      host: 'observed',
      options: { rate: 149.5, duration: 9000, closer: 'client', model: 'open' },
    });
    expect(plan.params).toMatchObject({ rate1: 149.5, twReuse: 2, closer: 'client', duration: 9000 });
  });

  it('says where each value came from: every parameter and sysctl line has a comment above it', () => {
    const lines = writeReproduction(exhaustingHost()).source.split('\n');
    const valueLines = lines
      .map((l, i) => [l, i] as const)
      .filter(([l]) => /^\s{4}\w+: f\./.test(l) || /^\s+'net\.[\w.]+': \d+,$/.test(l));
    // duration, ports, twReuse, closer, rate1; tcp_tw_reuse_delay, tcp_timestamps, tcp_fin_timeout, tcp_max_tw_buckets.
    expect(valueLines.length).toBe(9);
    for (const [line, i] of valueLines) expect(lines[i - 1], line).toMatch(/^\s*\/\/ /);
    // Comments are wrapped: read them as one text.
    const source = lines.join('\n').replace(/\n\s*\/\/ /g, ' ');
    expect(source).toContain('its ports grew 149.5 per second while doctor watched 2 s');
    expect(source).toContain('TcpExt.TW rose 149.8 per second against Tcp.ActiveOpens 150.2 per second');
    expect(source).toContain(
      '149.5 new connections per second against 2 ESTABLISHED, so a connection lives about 13.4 ms on average',
    );
    expect(source).toContain(
      'Stands for 10.1.2.3:443, which the host held 525 ports toward (520 TIME_WAIT, 2 ESTABLISHED, 3 other); doctor predicted they run out 3.2 s after its reading.',
    );
  });

  it("a CLOSE_WAIT leak: a server on the observed host that never closes, its clients at the leak's rate, no sysctl parameter beyond the host's own", async () => {
    const holders = [{ pid: 4242, command: 'python3', closeWait: 60, finWait2: 0, fds: 70, fdLimit: 1024 }];
    const o = observeHost(
      snapshot({ states: states({ CLOSE_WAIT: 40 }) }),
      snapshot({ states: states({ CLOSE_WAIT: 60 }), holders, rates: rates({}) }),
      2000,
    );
    const r = writeReproduction(o);
    expect(r.leak).toEqual({ actor: 'leaking', side: 'server', perSecond: 10 });
    expect(r.floods).toEqual([]);
    const plan = await loads(r.source);
    expect(plan.actors.leaking).toMatchObject({
      host: 'observed',
      options: { closeStyle: 'never', closer: 'client', keepAlive: false },
    });
    expect(plan.actors.clients).toMatchObject({ host: 'peer', options: { rate: 10, closer: 'client' } });
    expect(r.source).toContain('held by pid 4242 "python3" (60)');
  });

  it('a listen queue overflowing: a listener that accepts nothing while the load runs, arrivals at accepted + dropped', async () => {
    const o = observeHost(
      snapshot(),
      snapshot({ rates: rates({ passiveOpens: 20, listenOverflows: 5 }), sysctls: { 'net.core.somaxconn': '16' } }),
      2000,
    );
    const r = writeReproduction(o);
    const plan = await loads(r.source);
    expect(plan.actors.backlogged).toMatchObject({ host: 'observed', options: { acceptAfter: 5000 } });
    expect(plan.actors.arrivals).toMatchObject({ host: 'peer', options: { rate: 25 } });
    expect(plan.hosts.observed!.sysctls['net.core.somaxconn']).toBe('16');
  });

  it('a hostile host label or process name stays inside a string literal: the code is the same token for token, and nothing of it runs', async () => {
    const hostile = [
      'x\nglobalThis.pwned = 1; //',
      "x' + (globalThis.pwned = 1) + '",
      'x\u2028globalThis.pwned = 1',
      'x */ globalThis.pwned = 1; /*',
      'x`${globalThis.pwned = 1}`',
      'x\\", pwned: 1, "',
    ];
    const leak = (host: string, command: string) =>
      writeReproduction(
        observeHost(
          snapshot({ host, states: states({ CLOSE_WAIT: 1 }) }),
          snapshot({
            host,
            states: states({ CLOSE_WAIT: 9 }),
            holders: [{ pid: 7, command, closeWait: 9, finWait2: 0, fds: 9, fdLimit: null }],
          }),
          2000,
        ),
      );
    const benign = codeTokens(leak('box', 'python3').source);
    for (const text of hostile) {
      const r = leak(text, text);
      expect(codeTokens(r.source), JSON.stringify(text)).toEqual(benign);
      expect(r.source).toMatch(/^[\x20-\x7e\n]*$/);
      expect(r.source).toContain(stringLiteral(text));
      expect(r.name).toMatch(/^reproduce-[a-z0-9-]+$/);
      await loads(r.source);
      expect((globalThis as { pwned?: number }).pwned).toBeUndefined();
    }
  });
});

describe('the readings that cross from a namespace (--observed-json)', () => {
  it('round-trips what observeHost made', () => {
    const o = exhaustingHost();
    expect(parseObservedHost(JSON.stringify(o), 'ns')).toEqual(o);
  });

  it('refuses values that are not of their type, before any is used', () => {
    const o = JSON.parse(JSON.stringify(exhaustingHost())) as Record<string, any>;
    const cases: [string, (x: Record<string, any>) => void][] = [
      ['octet 256', (x) => (x.exhausting[0].endpoint.octets = [10, 1, 2, 256])],
      ['port as text', (x) => (x.exhausting[0].endpoint.port = "443'); process.exit(1); ('")],
      ['a port range as text', (x) => (x.sysctls.portRange = '40000 40999')],
      [
        'a fractional pid',
        (x) =>
          (x.closeWait = {
            count: 1,
            grew: 1,
            perSecond: 1,
            outgoing: 0,
            holders: [{ pid: 1.5, command: 'a', closeWait: 1 }],
          }),
      ],
      ['a rate of zero', (x) => (x.exhausting[0].connectRate = 0)],
      ['a time that is not UTC ISO', (x) => (x.at = '2026-01-01 00:00')],
      ['tcp_tw_reuse 3', (x) => (x.sysctls.twReuse = 3)],
    ];
    for (const [what, spoil] of cases) {
      const x = structuredClone(o);
      spoil(x);
      expect(() => parseObservedHost(JSON.stringify(x), 'ns'), what).toThrow(/the reader inside ns answered/);
    }
    expect(() => parseObservedHost('ready\n{}', 'ns')).toThrow('did not answer with JSON');
  });
});
