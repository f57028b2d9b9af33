// Doctor's findings and watch's screen on fixed snapshots: pure functions, no namespace.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.ts';
import { diagnose } from '../../../src/watch/diagnosis.ts';
import { doctorText } from '../../../src/watch/run-doctor.ts';
import { renderHost, renderHostSection } from '../../../src/watch/screen.ts';
import { TCP_STATES } from '../../../src/sampler/tcp-states.ts';
import { destination, snapshot, states } from '../../helpers/watch-snapshot.ts';
import { sparkline } from '../../../src/watch/sparkline.ts';
import { watchTarget } from '../../../src/watch/watch-target.ts';

describe('doctor findings', () => {
  it('nothing near a limit on an idle host, and says so', () => {
    const findings = diagnose(snapshot(), snapshot());
    expect(findings.some((f) => f.nearLimit)).toBe(false);
    expect(findings.map((f) => f.text)).toEqual([
      'No outgoing connections: none of the 1,000-port budget (40000-40999) is in use toward any destination.',
    ]);
  });

  it('a destination at half its budget but growing: near, with the time it runs out and why', () => {
    const s = snapshot({
      clientTimeWait: 500,
      destinations: [
        destination({ destination: '198.18.0.2:80', ports: 500, portsPerSecond: 10, exhaustionMs: 50_000 }),
      ],
    });
    const [budget] = diagnose(snapshot(), s);
    expect(budget).toEqual({
      kind: 'port-budget',
      nearLimit: true,
      text: 'Toward 198.18.0.2:80 this host holds 500 of its 1,000-port ip_local_port_range (40000-40999), 50% of the ports toward that ip:port (500 TIME_WAIT, 0 ESTABLISHED, 0 other). At the current rate (+10.0 ports per second over the last 5 s) they run out in 50 s; then connect() fails with EADDRNOTAVAIL ("Cannot assign requested address").',
    });
  });

  it('tcp_tw_reuse=2 is loopback only: said for a remote destination, not for 127.0.0.1', () => {
    const remote = snapshot({
      clientTimeWait: 100,
      destinations: [destination({ destination: '198.18.0.2:80', ports: 100 })],
    });
    const found = diagnose(snapshot(), remote).filter((f) => f.kind === 'sysctl');
    const text = found.map((f) => f.text);
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(
      /^tcp_tw_reuse=2 \(the default\) means loopback only: toward 198\.18\.0\.2:80 connect\(\) never takes over this host's 100 TIME_WAIT entries \(tcp_tw_reuse=2 reuses on loopback only, and this destination is not\)\./,
    );
    expect(found[0]!.reproduce).toEqual([
      'npx waitlab scenario short-conn --set twReuse=2',
      'npx waitlab scenario short-conn --set twReuse=1',
    ]);
    const local = snapshot({
      clientTimeWait: 100,
      destinations: [destination({ destination: '127.0.0.1:80', ports: 100 })],
    });
    expect(diagnose(snapshot(), local).filter((f) => f.kind === 'sysctl')).toEqual([]);
  });

  it('a tcp_tw_recycle line in a sysctl file, on a kernel without it: named by file and line', () => {
    const conf = [
      { file: '/etc/sysctl.d/90-tuning.conf', line: 3, text: 'net.ipv4.tcp_tw_recycle = 1' },
      { file: '/etc/sysctl.conf', line: 1, text: '# net.ipv4.tcp_tw_recycle = 1' },
    ];
    const text = diagnose(snapshot(), snapshot(), conf)
      .filter((f) => f.kind === 'sysctl')
      .map((f) => f.text);
    expect(text).toEqual([
      expect.stringMatching(
        /^\/etc\/sysctl\.d\/90-tuning\.conf:3 sets net\.ipv4\.tcp_tw_recycle, which this kernel does not have: it was removed in Linux 4\.12/,
      ),
    ]);
  });

  it("a CLOSE_WAIT leak near its process's open-files limit: near, naming the process", () => {
    const holder = { pid: 4242, command: 'python3', closeWait: 900, finWait2: 0, fds: 950, fdLimit: 1024 };
    const findings = diagnose(
      snapshot({ states: states({ CLOSE_WAIT: 400 }) }),
      snapshot({ states: states({ CLOSE_WAIT: 900 }), holders: [holder] }),
    );
    expect(findings.find((f) => f.kind === 'close-wait')?.text).toMatch(
      /^CLOSE_WAIT on this host: 900 \(grew by 500 in 5 s: an application that does not close\), held by pid 4242 \(python3\) 900\./,
    );
    expect(findings.find((f) => f.kind === 'fd-limit')).toMatchObject({
      nearLimit: true,
      text: expect.stringMatching(/^Process 4242 \(python3\) has 950 open files of its limit 1,024 \(92\.8%\)/),
    });
  });
});

describe('doctor text', () => {
  it('wraps each finding to the width, marks the near ones, and keeps each command whole on its own line', () => {
    const after = snapshot({
      clientTimeWait: 900,
      destinations: [destination({ destination: '198.18.0.2:80', ports: 900 })],
    });
    const findings = diagnose(snapshot(), after);
    const text = doctorText({ host: 'box', nearLimit: true, findings, snapshot: after }, 5000, 80);
    const lines = text.split('\n');
    expect(lines[0]).toBe('waitlab doctor: host box, 0 TCP sockets, watched for 5 s');
    expect(lines[1]).toMatch(/^! Toward 198\.18\.0\.2:80 this host holds 900 of its 1,000-port/);
    expect(lines.filter((l) => !l.startsWith('    npx waitlab ')).every((l) => l.length <= 80)).toBe(true);
    expect(lines).toContain(
      '    npx waitlab scenario short-conn --set ports=40000-40999 --set twReuse=2 --set closer=server',
    );
    expect(lines.at(-2)).toBe('near a limit: 1 finding marked ! (exit 1)');
  });
});

describe('watch screen', () => {
  const many = Array.from({ length: 16 }, (_, i) =>
    destination({ destination: `198.18.0.${i + 2}:8080`, ports: 990 - i, portsPerSecond: 12.5, exhaustionMs: 800 }),
  );
  const busy = {
    seconds: 2,
    activeOpens: 12_345.6,
    passiveOpens: 12_345.6,
    timeWaitEntered: 12_345.6,
    resetsSent: 12_345.6,
    establishedResets: 12_345.6,
    connectFails: 12_345.6,
    listenOverflows: 12_345.6,
    timeWaitOverflows: 12_345.6,
  };
  const s = snapshot({
    rates: busy,
    sockets: 20_000,
    destinations: many,
    destinationCount: 40,
    states: states({ TIME_WAIT: 15_000, ESTABLISHED: 12, CLOSE_WAIT: 3 }),
    holders: [{ pid: 77, command: 'a-very-long-command-name', closeWait: 3, finWait2: 0, fds: 10, fdLimit: null }],
  });
  const history = Object.fromEntries(
    TCP_STATES.map((st) => [st, Array.from({ length: 60 }, (_, i) => i * 100)]),
  ) as never;

  for (const [width, height] of [
    [80, 24],
    [132, 50],
  ] as const) {
    it(`fits ${width}x${height}: no line longer, no more lines`, () => {
      const lines = renderHost(s, history, { width, height, intervalMs: 2000 });
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(width);
      expect(lines.length).toBeLessThanOrEqual(height);
      expect(lines.some((l) => /^198\.18\.0\.2:8080 +990 +99% +990 +0 +0 +12\.5 {2}1 s$/.test(l))).toBe(true);
      expect(lines.some((l) => /^\.\.\. \d+ more destinations$/.test(l))).toBe(true);
      expect(lines.some((l) => l === '77       a-very-long-comm          3         0  10 / unlimited')).toBe(true);
    });
  }

  it('fits one host of a run into its share of the screen', () => {
    const lines = renderHostSection(s, history, { width: 80, height: 11, intervalMs: 2000 });
    expect(lines).toHaveLength(11);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/^── host box ─+$/);
    expect(lines).toContain('CLOSE_WAIT/FIN_WAIT2 by process: pid 77 (a-very-long-command-name) 3/0');
    expect(lines.at(-1)).toMatch(/^\.\.\. \d+ more destinations$/);
  });

  it('draws a sparkline scaled to its own maximum', () => {
    expect(sparkline([0, 1, 2, 4, 8])).toBe('▁▂▃▅█');
    expect(sparkline([0, 0])).toBe('▁▁');
  });
});

describe('watch target', () => {
  it('refuses a namespace name or pid that is not one, before anything is entered', () => {
    for (const given of [
      { netns: '../x' },
      { netns: '..' },
      { netns: 'a b' },
      { netns: 'no-such-ns-here' },
      { pid: '0' },
      { pid: '-1' },
      { pid: '12a' },
      { pid: '99999999999' },
      { netns: 'a', pid: '1' },
    ]) {
      expect(() => watchTarget(given), JSON.stringify(given)).toThrow(UsageError);
    }
    expect(watchTarget({})).toEqual({ kind: 'self', label: 'this namespace' });
    expect(watchTarget({ pid: String(process.pid) })).toEqual({
      kind: 'pid',
      label: `pid ${process.pid}`,
      path: `/proc/${process.pid}/ns/net`,
    });
  });
});
