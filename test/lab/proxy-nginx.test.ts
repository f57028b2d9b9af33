// nginx between a client and a backend, in short forms of proxy-short-upstream and proxy-keepalive-upstream.
// Every assertion reads the kernel (counters and socket states per host and per peer) or nginx's own error log.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { currentPrivilege } from '../../src/lab/privilege.ts';
import { type TestReport, nobodyCanRunCheckout, runCli, runShort, tempDir } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const BUDGET = 300;
const SHORT = { proxyPorts: '40000-40299', rate: '300/s', duration: '2s' };
const UPSTREAM = '198.18.0.3:8080';

const statuses = (r: TestReport) => r.actors.flood!['statuses'] as Record<string, number>;
const errorLog = (r: TestReport) =>
  r.actors.proxy!['errorLog'] as {
    causes: Record<string, number>;
    errno: Record<string, number>;
    kinds: Record<string, number>;
    levels: Record<string, number>;
  };

describeWithTools(['nginx'], 'nginx, one upstream connection per request', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('proxy-short-upstream', SHORT));
  });

  it('opens one upstream connection per request until the proxy host has no port left toward the upstream', () => {
    const connected = Number(report.actors.flood!['connected']);
    expect(connected).toBeGreaterThan(BUDGET * 1.5);
    // Tcp.ActiveOpens counts SYNs sent: a connect() failing with EADDRNOTAVAIL sends none.
    expect(report.hosts.proxy!.counters.delta['Tcp.ActiveOpens']).toBe(BUDGET);
    expect(report.actors.proxy!['hostActiveOpens']).toBe(BUDGET);
    expect(report.hosts.backend1!.counters.delta['Tcp.PassiveOpens']).toBe(BUDGET);
    expect(report.hosts.proxy!.counters.delta['Tcp.PassiveOpens']).toBe(connected);
  });

  it('leaves the TIME_WAIT on the proxy host, toward the upstream, and none on the backend', () => {
    const towardUpstream = report.hosts.proxy!.peak.peers.ephemeral[UPSTREAM]!.TIME_WAIT!;
    expect(towardUpstream).toBeGreaterThanOrEqual(BUDGET * 0.98);
    // One socket per 4-tuple in the census: never more TIME_WAIT toward one upstream than the ports there are.
    expect(towardUpstream).toBeLessThanOrEqual(BUDGET);
    expect(report.hosts.proxy!.peak.sockstatTw).toBe(BUDGET);
    expect(report.hosts.proxy!.peak.listen.TIME_WAIT).toBe(0);
    expect(report.hosts.backend1!.peak.total.TIME_WAIT).toBe(0);
    expect(report.actors.web1!['peerClosedFirst']).toBe(BUDGET);
    expect(report.findings.join('\n')).toMatch(
      /Upstream web1 \(198\.18\.0\.3:8080\): TIME_WAIT .* peaked at \d+ on host proxy and 0 on host backend1.*Host proxy closed these connections first \(first closes counted by each kernel: host proxy [\d,]+ \(TcpExt\.TW \+[\d,]+\), host backend1 0 \(TcpExt\.TW \+0\)\)/,
    );
  });

  it('logs "(99: Cannot assign requested address)" once per request that found no port, and the client gets a 502 for each', () => {
    const log = errorLog(report);
    const connected = Number(report.actors.flood!['connected']);
    expect(statuses(report)).toEqual({ 200: BUDGET, 502: connected - BUDGET });
    expect(log.errno).toEqual({ EADDRNOTAVAIL: connected - BUDGET });
    expect(log.causes.portsExhausted).toBe(connected - BUDGET);
    expect(
      log.kinds[`connect() to ${UPSTREAM} failed (99: Cannot assign requested address) while connecting to upstream`],
    ).toBe(connected - BUDGET);
    // nginx logs a connect() errno other than refused/unreachable/reset at crit.
    expect(log.levels.crit).toBe(connected - BUDGET);
  });

  it('passes its own thresholds', () => {
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});

describeWithTools(['nginx'], 'nginx with an upstream keep-alive pool', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('proxy-keepalive-upstream', SHORT));
  });

  it('carries every request on a few upstream connections: no port runs out, no 99 in the log, no 502', () => {
    const connected = Number(report.actors.flood!['connected']);
    expect(connected).toBeGreaterThan(BUDGET * 1.5);
    expect(statuses(report)).toEqual({ 200: connected });
    expect(errorLog(report).causes.portsExhausted).toBe(0);
    expect(errorLog(report).errno).toEqual({});
    const opens = report.hosts.proxy!.counters.delta['Tcp.ActiveOpens']!;
    expect(opens).toBeGreaterThan(0);
    expect(opens).toBeLessThanOrEqual(connected / 20);
    expect(report.hosts.proxy!.peak.ephemeral.TIME_WAIT).toBeLessThanOrEqual(opens);
  });

  it('passes its own thresholds', () => {
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});

describeWithTools(['nginx'], 'nginx with proxy_bind to its own address', () => {
  it('still lets connect() pick the port (IP_BIND_ADDRESS_NO_PORT), so the ports run out with the same 99, not EADDRINUSE', async () => {
    const { report } = await runShort('proxy-short-upstream', { ...SHORT, bind: '198.18.0.2' });
    expect(report.actors.proxy!['config']).toMatch(/proxy_bind 198\.18\.0\.2;/);
    expect(report.actors.proxy!['hostActiveOpens']).toBe(BUDGET);
    expect(Object.keys(errorLog(report).errno)).toEqual(['EADDRNOTAVAIL']);
    expect(errorLog(report).causes.portsExhausted).toBe(Number(report.actors.flood!['connected']) - BUDGET);
  });
});

const rootlessPossible = currentPrivilege() === 'root' && nobodyCanRunCheckout();
(rootlessPossible
  ? describeWithTools
  : (_: readonly string[], name: string, body: () => void) => describe.skip(name, body))(
  ['nginx'],
  'nginx in a rootless run (skipped where user nobody cannot read the checkout)',
  () => {
    it('runs as one process in the user namespace and still runs out of ports the same way', async () => {
      const dir = tempDir();
      // The run directory is nobody's own: root's runs refuse a directory another user may write.
      const { chownSync } = await import('node:fs');
      chownSync(dir, 65534, 65534);
      const cli = runCli(
        [
          'scenario',
          'proxy-short-upstream',
          ...Object.entries(SHORT).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
          '--out',
          join(dir, 'run'),
          '--no-progress',
        ],
        {
          uid: 65534,
          gid: 65534,
          env: { PATH: process.env.PATH, HOME: dir, TMPDIR: dir },
        },
      );
      const code = await cli.exit;
      if (code === 3) {
        expect(cli.stderr()).toMatch(/cannot create user namespaces/);
        return;
      }
      expect(cli.stderr()).toMatch(/proxy-short-upstream: PASS/);
      const report = JSON.parse(readFileSync(join(dir, 'run', 'report.json'), 'utf8')) as TestReport;
      expect(report.environment.privilege).toBe('userns-root');
      // Workers could not leave uid 0 there (setgroups is denied in the user namespace): the master serves alone.
      expect(report.actors.proxy!['processModel']).toMatch(/single process/);
      expect(report.actors.proxy!['hostActiveOpens']).toBe(BUDGET);
      expect(errorLog(report).causes.portsExhausted).toBeGreaterThan(0);
      expect(Object.keys(errorLog(report).errno)).toEqual(['EADDRNOTAVAIL']);
      // nginx ran as uid 65534 outside the user namespace: none of it may be left.
      expect(liveNginxOf(65534, dir)).toEqual([]);
    });
  },
);

/**
 * Live (not zombie) nginx processes of a real uid working under `dir` (the run's TMPDIR, where nginx's working
 * directory is made): a root run beside this one has workers of uid 65534 too, nobody's, and they are not ours.
 */
function liveNginxOf(uid: number, dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const name = /^Name:\s+(\S+)/m.exec(status)?.[1];
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      const realUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (
        name === 'nginx' &&
        state !== 'Z' &&
        realUid === uid &&
        readlinkSync(`/proc/${entry}/cwd`).startsWith(`${dir}/`)
      )
        out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}
