// --capture in real namespaces: tcpdump runs in each host named and is gone after the run (success, SIGTERM); its
// pcaps parse with tcpdump -r; the frames the packets finding cites are in the file with the flags it says; the
// first-FIN side agrees with each host's TcpExt.TW; and a request written after the server's FIN is found,
// answered by RST. Every figure is read from the kernel's counters or the files; no clock is asserted.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { defineScenario, type ScenarioSpec } from '../../src/core/scenario.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import type { CaptureReport, Report } from '../../src/report/report.ts';
import { contradictions } from '../../src/report/truth-check.ts';
import { locateTool, systemTool } from '../../src/core/system-tools.ts';
import {
  childrenNamed,
  nobodyCanRunCheckout,
  running,
  runCli,
  tempDir,
  until,
  type CliRun,
  type TestReport,
} from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

/** tcpdump's own reading of a pcap, one line per frame, keyed by the frame number that -# prints. */
function framesOf(file: string): Map<number, string> {
  const text = execFileSync('tcpdump', ['-r', file, '-nn', '-tt', '-S', '-#'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 * 1024 * 1024,
  });
  const frames = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) frames.set(Number(m[1]), m[2]!);
  }
  return frames;
}

/** Polls a CLI run for its tcpdump children until it exits; returns every pid seen. */
async function watchTcpdump(cli: CliRun): Promise<{ code: number | null; seen: number[] }> {
  const seen = new Set<number>();
  let code: number | null | undefined;
  void cli.exit.then((c) => (code = c));
  while (code === undefined) {
    for (const pid of childrenNamed(cli.child.pid!, 'tcpdump')) seen.add(pid);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { code, seen: [...seen] };
}

const NOBODY = 65534;

/** A plan of two hosts, client and server, with these actors, capturing on `hosts`. */
function capturePlan(name: string, actors: ScenarioSpec['actors'], hosts: string) {
  return resolvePlan(
    defineScenario({
      name,
      description: 'test',
      params: {},
      build: () => ({ hosts: { client: {}, server: {} }, actors }),
    }),
    'test',
    {},
    { capture: { hosts } },
  );
}

const captureOf = (report: TestReport, host: string): CaptureReport => report.captures!.find((c) => c.host === host)!;

describeWithTools(['tcpdump'], 'packet captures (--capture)', () => {
  describe('server-close with --capture client,server', () => {
    const dir = resolve(tempDir(), 'run');
    let report: TestReport;
    let code: number | null;
    let seen: number[];
    beforeAll(async () => {
      const cli = runCli([
        'scenario',
        'server-close',
        '--set',
        'rate=200/s',
        '--set',
        'duration=2s',
        '--set',
        'ports=40000-40099',
        '--capture',
        'client,server',
        '--out',
        dir,
        '--no-progress',
      ]);
      ({ code, seen } = await watchTcpdump(cli));
      report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as TestReport;
    }, 120_000);

    it('runs one tcpdump per host, none left running after the run', () => {
      expect(code).toBe(0);
      expect(seen).toHaveLength(2);
      expect(seen.filter(running)).toEqual([]);
    });

    it('lists each capture, and tcpdump -r reads each file whole: as many frames as the report counts', () => {
      expect(report.captures!.map((c) => [c.host, c.file, c.truncated, c.snaplen])).toEqual([
        ['client', 'client.pcap', false, 160],
        ['server', 'server.pcap', false, 160],
      ]);
      for (const c of report.captures!) {
        const file = join(dir, c.file);
        expect(statSync(file).size).toBe(c.bytes);
        expect(framesOf(file).size).toBe(c.packets);
        expect(c.droppedByKernel).toBe(0);
      }
    });

    it('says the server sent the first FIN on every connection, as both kernels counted (TcpExt.TW)', () => {
      const connected = report.actors.flood!['connected'] as number;
      const server = captureOf(report, 'server').evidence!.byPeer['198.18.0.1']!;
      const client = captureOf(report, 'client').evidence!.byPeer['198.18.0.2']!;
      expect(server).toMatchObject({
        connections: connected,
        asServer: connected,
        localFirst: connected,
        peerFirst: 0,
        reset: 0,
      });
      expect(client).toMatchObject({
        connections: connected,
        asClient: connected,
        localFirst: 0,
        peerFirst: connected,
      });
      expect(server.localFirst + server.both).toBe(report.hosts.server!.counters.delta['TcpExt.TW']);
      expect(client.localFirst + client.both).toBe(report.hosts.client!.counters.delta['TcpExt.TW']);
      expect(report.findings.join('\n')).toContain(
        `Its kernel counted the same ${connected} first closes (TcpExt.TW +${connected}): the packets and the counters agree.`,
      );
    });

    it('cites first FINs that are in the file: a FIN from the server', () => {
      for (const host of ['client', 'server']) {
        const c = captureOf(report, host);
        const frames = framesOf(join(dir, c.file));
        const peer = Object.values(c.evidence!.byPeer)[0]!;
        expect(peer.firstFins.length).toBeGreaterThan(0);
        for (const fin of peer.firstFins)
          expect(frames.get(fin.frame)).toMatch(/IP 198\.18\.0\.2\.8080 > 198\.18\.0\.1\.\d+: Flags \[F/);
        const cited = /the first, frame (\d+)/.exec(
          report.findings.find((f) => f.startsWith(`Host ${host}'s capture`))!,
        )![1];
        expect(Number(cited)).toBe(peer.firstFins[0]!.frame);
      }
    });

    it('passes the truth check: every claim of the packets finding re-derives from report.json', () => {
      const claims = report.claims!.filter((c) => c.rule === 'packets');
      expect(claims.map((c) => c.host).sort()).toEqual(['client', 'server']);
      const packetFindings = new Set(claims.map((c) => c.finding));
      expect(contradictions(report as unknown as Report).filter((c) => packetFindings.has(c.finding))).toEqual([]);
    });
  });

  describe("a request written after the server's idle close", () => {
    // The client waits for the server's FIN (allowHalfOpen keeps its own side open), then writes a request: the
    // server closed its socket (closeStyle close), so its kernel answers the data with an RST. Node reports that
    // RST on no event of a socket whose reading has ended, so the client says it raced a moment after its write.
    const CLIENT = [
      "const s = require('net').connect({ host: process.argv[1], port: 8080, allowHalfOpen: true }, () => s.write('GET / HTTP/1.1\\r\\nHost: server\\r\\n\\r\\n'));",
      "s.on('end', () => s.write('POST /orders HTTP/1.1\\r\\nHost: server\\r\\nContent-Length: 0\\r\\n\\r\\n', () => setTimeout(() => console.log('raced'), 200)));",
      "s.on('error', () => {}); s.resume(); setInterval(() => {}, 1000);",
    ].join(' ');
    let report: TestReport;
    let dir: string;
    const seen = new Set<number>();
    beforeAll(async () => {
      const plan = capturePlan(
        'capture-race',
        {
          web: {
            kind: 'http-server',
            host: 'server',
            port: 8080,
            keepAlive: true,
            keepAliveTimeout: '300ms',
            closeStyle: 'close',
          },
          racer: {
            kind: 'process',
            host: 'client',
            command: [process.execPath, '-e', CLIENT, '198.18.0.2'],
            ready: { log: 'raced' },
            readyTimeout: '20s',
          },
        },
        'client,server',
      );
      dir = tempDir();
      const watching = setInterval(() => childrenNamed(process.pid, 'tcpdump').forEach((p) => seen.add(p)), 50);
      try {
        ({ report } = (await runScenario(plan, { outDir: dir })) as unknown as { report: TestReport });
      } finally {
        clearInterval(watching);
      }
    }, 120_000);

    it("finds the write, the FIN it followed and the RST, on both hosts' captures, at frames tcpdump shows so", () => {
      for (const host of ['client', 'server']) {
        const late = captureOf(report, host).evidence!.lateWrites;
        expect(late).toMatchObject({ count: 1, answeredByRst: 1, afterFinReceived: 1 });
        const w = late.examples[0]!;
        expect(w.request).toBe('POST /orders HTTP/1.1');
        const frames = framesOf(join(dir, `${host}.pcap`));
        expect(frames.get(w.fin.frame)).toMatch(/IP 198\.18\.0\.2\.8080 > 198\.18\.0\.1\.\d+: Flags \[F/);
        expect(frames.get(w.frame)).toMatch(
          /IP 198\.18\.0\.1\.\d+ > 198\.18\.0\.2\.8080: Flags \[P\.\].*HTTP: POST \/orders HTTP\/1\.1/,
        );
        expect(frames.get(w.rst!.frame)).toMatch(/IP 198\.18\.0\.2\.8080 > 198\.18\.0\.1\.\d+: Flags \[R\]/);
        expect(w.fin.frame).toBeLessThan(w.frame);
        expect(w.frame).toBeLessThan(w.rst!.frame);
        expect(
          report.findings.find((f) => f.startsWith(`Host ${host}'s capture (${host}.pcap): 1 write of data`)),
        ).toContain(`The first: frame ${w.frame} at `);
      }
      // The server's kernel sent that RST: the data reached a socket it had closed.
      expect(report.hosts.server!.counters.delta['Tcp.OutRsts']).toBeGreaterThanOrEqual(1);
    });

    it('stopped its tcpdumps', () => {
      expect(seen.size).toBe(2);
      expect([...seen].filter(running)).toEqual([]);
    });
  });

  it('stops tcpdump when the run fails (a process that never becomes ready), and still lists the capture', async () => {
    const plan = capturePlan(
      'capture-failure',
      {
        idle: {
          kind: 'process',
          host: 'server',
          command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
          ready: { log: 'never printed' },
          readyTimeout: '1s',
        },
      },
      'server',
    );
    const dir = tempDir();
    const seen = new Set<number>();
    const watching = setInterval(() => childrenNamed(process.pid, 'tcpdump').forEach((p) => seen.add(p)), 50);
    const failure = await runScenario(plan, { outDir: dir }).then(
      () => undefined,
      (err: unknown) => err as Error & { code?: string },
    );
    clearInterval(watching);
    expect(failure?.code).toBe('WAITLAB_ACTOR_FAILED');
    expect(seen.size).toBe(1);
    expect([...seen].filter(running)).toEqual([]);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as TestReport;
    expect(report.verdict).toBe('error');
    expect(captureOf(report, 'server')).toMatchObject({ file: 'server.pcap', truncated: false });
    expect(framesOf(join(dir, 'server.pcap')).size).toBe(captureOf(report, 'server').packets);
  }, 120_000);

  it('stops at --capture-max on a whole record, and says the capture holds only the beginning', async () => {
    const dir = resolve(tempDir(), 'run');
    const cli = runCli([
      'scenario',
      'short-conn',
      '--set',
      'duration=2s',
      '--set',
      'rate=100/s',
      '--capture',
      'client',
      '--capture-max',
      '100kB',
      '--out',
      dir,
      '--no-progress',
    ]);
    const { code, seen } = await watchTcpdump(cli);
    expect(code).toBe(0);
    expect(seen.filter(running)).toEqual([]);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as TestReport;
    const c = captureOf(report, 'client');
    expect(c).toMatchObject({ truncated: true, snaplen: 160 });
    expect(c.bytes).toBeLessThanOrEqual(100_000);
    expect(statSync(join(dir, 'client.pcap')).size).toBe(c.bytes);
    expect(framesOf(join(dir, 'client.pcap')).size).toBe(c.packets);
    const connected = report.actors.flood!['connected'] as number;
    expect(c.evidence!.byPeer['198.18.0.2']!.connections).toBeLessThan(connected);
    expect(report.findings.join('\n')).toContain(
      `The capture reached its size cap (${c.bytes.toLocaleString('en-US')} bytes) and holds only the run's beginning.`,
    );
  }, 120_000);

  it('stops tcpdump on SIGTERM and keeps what it captured', async () => {
    const dir = resolve(tempDir(), 'run');
    const cli = runCli([
      'scenario',
      'short-conn',
      '--set',
      'duration=30s',
      '--set',
      'rate=50/s',
      '--capture',
      'client',
      '--out',
      dir,
      '--no-progress',
    ]);
    const watched = watchTcpdump(cli);
    await until(
      () =>
        existsSync(join(dir, 'samples.ndjson')) &&
        readFileSync(join(dir, 'samples.ndjson'), 'utf8').includes('"type":"stats"'),
      'the load to start',
    );
    cli.child.kill('SIGTERM');
    const { code, seen } = await watched;
    expect(code).toBe(143);
    expect(seen).toHaveLength(1);
    expect(seen.filter(running)).toEqual([]);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as TestReport;
    const c = captureOf(report, 'client');
    expect(c.packets).toBeGreaterThan(0);
    expect(framesOf(join(dir, 'client.pcap')).size).toBe(c.packets);
  }, 120_000);

  // Where tcpdump is in /usr/bin (Debian), a PATH without it hides it: the sbin directories are searched too.
  it.skipIf(/\/sbin\//.test(locateTool(systemTool('tcpdump')!) ?? ''))(
    'names tcpdump as the missing tool (exit 3) where it is not found, before any lab',
    async () => {
      const cli = runCli(['scenario', 'short-conn', '--capture', 'client', '--dry-run'], {
        env: { ...process.env, PATH: '/nonexistent' },
      });
      expect(await cli.exit).toBe(3);
      expect(cli.stderr()).toContain(
        'needs tcpdump (--capture), not installed here: npx waitlab setup --only tcpdump installs it',
      );
    },
  );

  it.runIf(process.getuid?.() === 0 && nobodyCanRunCheckout())(
    'refuses a rootless lab (exit 3), where tcpdump cannot change its user, before building it',
    async () => {
      const dir = tempDir();
      chownSync(dir, NOBODY, NOBODY);
      const cli = runCli(
        ['scenario', 'short-conn', '--capture', 'client', '--out', join(dir, 'run'), '--no-progress'],
        { uid: NOBODY, gid: NOBODY, env: { PATH: process.env.PATH, HOME: dir, TMPDIR: dir } },
      );
      expect(await cli.exit).toBe(3);
      expect(cli.stderr()).toMatch(
        /--capture needs root: tcpdump changes its user before capturing, and the user namespace of a rootless lab denies setgroups|cannot create user namespaces/,
      );
    },
  );

  it('refuses a host the plan does not have (exit 2), listing the hosts, before any lab', async () => {
    const cli = runCli(['scenario', 'short-conn', '--capture', 'client,nosuch', '--no-progress']);
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toContain('--capture: no host "nosuch" (hosts: client, server)');
  });
});
