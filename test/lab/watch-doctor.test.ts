// watch and doctor pointed at lab hosts with known populations: a client holding 90% of a 200-port range
// toward one server port and one idle connection toward another (tcp_tw_reuse=0, tcp_fin_timeout=10), and a
// server whose python3 process never closes what its peers close. Every number is checked against the
// kernel's own census (ss inside the namespace) or the process table.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/driver.ts';
import { currentPrivilege } from '../../src/lab/privilege.ts';
import type { Diagnosis } from '../../src/watch/run-doctor.ts';
import type { Snapshot } from '../../src/watch/snapshot.ts';
import {
  BIN,
  buildLab,
  inHost,
  nobodyCanRunCheckout,
  runCli,
  shortConnUnderLoad,
  tempDir,
  until,
} from '../helpers/lab.ts';
import { LEAKING_SERVER, PORT_LOAD, startIn, TS_LOADER } from '../helpers/lab-programs.ts';
import { itWithTools } from '../helpers/tools.ts';

const CLOSED_FIRST = 180;
const RANGE = '40000-40199';
const LEAKS = 40;

/** ss's own count of each state, and of sockets per peer, in a host. */
function ssCensus(
  lab: Lab,
  host: string,
): { states: Record<string, number>; peers: Record<string, Record<string, number>> } {
  const names: Record<string, string> = {
    ESTAB: 'ESTABLISHED',
    'TIME-WAIT': 'TIME_WAIT',
    'CLOSE-WAIT': 'CLOSE_WAIT',
    'FIN-WAIT-2': 'FIN_WAIT2',
    LISTEN: 'LISTEN',
  };
  const states: Record<string, number> = {};
  const peers: Record<string, Record<string, number>> = {};
  for (const line of inHost(lab, host, 'ss', ['-H', '-tan']).split('\n').filter(Boolean)) {
    const [state, , , , peer] = line.trim().split(/\s+/) as [string, string, string, string, string];
    const name = names[state] ?? state;
    states[name] = (states[name] ?? 0) + 1;
    (peers[peer] ??= {})[name] = (peers[peer]![name] ?? 0) + 1;
  }
  return { states, peers };
}

/** A bash in a tmux server of its own (80x24, its socket in a fresh directory), to run the live view in a real terminal. */
function terminal() {
  const dir = tempDir();
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', join(dir, 'tmux'), ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', 'w', '-x', '80', '-y', '24', 'bash --norc --noprofile');
  const close = () => {
    tmux('kill-server');
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    tmux,
    close,
    screen: () => tmux('capture-pane', '-p', '-t', 'w'),
    show: (format: string) => tmux('display-message', '-p', '-t', 'w', format).trim(),
  };
}

/** After the live view: exit code 0, the cursor shown, the alternate screen left, the terminal out of raw mode. */
async function expectTerminalRestored(tmux: (...args: string[]) => string, screen: () => string): Promise<void> {
  expect(tmux('display-message', '-p', '-t', 'w', '#{alternate_on} #{cursor_flag}').trim()).toBe('0 1');
  tmux(
    'send-keys',
    '-t',
    'w',
    'echo "exit=$?"; stty -a | tr " " "\\n" | grep -x -e icanon -e -icanon -e echo -e -echo; echo "stty=done"',
    'Enter',
  );
  await until(() => /^stty=done$/m.test(screen()), 'the shell to answer');
  const after = screen();
  expect(after).toContain('exit=0');
  expect(after).toMatch(/^icanon$/m);
  expect(after).toMatch(/^echo$/m);
  expect(after).not.toMatch(/^-icanon$/m);
}

async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runCli(args);
  const code = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe('waitlab watch and doctor on lab hosts', () => {
  let lab: Lab;
  let server: string;
  let leaker: ChildProcess;
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    lab = await buildLab({
      client: {
        sysctls: {
          'net.ipv4.ip_local_port_range': RANGE.replace('-', ' '),
          'net.ipv4.tcp_tw_reuse': 0,
          'net.ipv4.tcp_fin_timeout': 10,
          'net.ipv4.tcp_rfc1337': 1,
        },
      },
      server: {},
    });
    server = lab.hosts.server!.address;
    leaker = await startIn(lab, 'server', ['python3', '-c', LEAKING_SERVER, '8082'], procs);
    await startIn(
      lab,
      'server',
      [process.execPath, '--import', TS_LOADER, PORT_LOAD, JSON.stringify({ listen: [8080, 8081] })],
      procs,
    );
    await startIn(
      lab,
      'client',
      [
        process.execPath,
        '--import',
        TS_LOADER,
        PORT_LOAD,
        JSON.stringify({
          closeFirst: { host: server, port: 8080, count: CLOSED_FIRST },
          hold: { host: server, port: 8081, count: 1 },
        }),
      ],
      procs,
    );
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGTERM');
    await lab?.teardown();
  });

  it('--once --json: the destination at 90% of the range and the idle one, as ss counts them', async () => {
    const { code, stdout } = await cli([
      'watch',
      '--netns',
      lab.hosts.client!.location,
      '--once',
      '--json',
      '--interval',
      '500ms',
    ]);
    expect(code).toBe(0);
    const snapshot = JSON.parse(stdout) as Snapshot;
    const ss = ssCensus(lab, 'client');
    expect(snapshot.host).toBe(lab.hosts.client!.location);
    expect(snapshot.portRange).toBe(RANGE);
    expect(snapshot.portBudget).toBe(200);
    expect(snapshot.states.TIME_WAIT).toBe(ss.states.TIME_WAIT);
    expect(snapshot.states.ESTABLISHED).toBe(ss.states.ESTABLISHED);
    expect(snapshot.sockstat.tw).toBe(CLOSED_FIRST);
    const [busiest, idle] = snapshot.destinations;
    expect(busiest).toMatchObject({
      destination: `${server}:8080`,
      ports: CLOSED_FIRST,
      ofBudget: 0.9,
      timeWait: CLOSED_FIRST,
      established: 0,
    });
    expect(busiest!.timeWait).toBe(ss.peers[`${server}:8080`]!.TIME_WAIT);
    expect(idle).toMatchObject({ destination: `${server}:8081`, ports: 1, established: 1, timeWait: 0 });
    expect(snapshot.clientTimeWait).toBe(CLOSED_FIRST);
    expect(snapshot.serverTimeWait).toBe(0);
  });

  it('doctor: exit 1, the destination near its budget, who closes first, and the sysctl findings', async () => {
    const { code, stdout } = await cli(['doctor', '--netns', lab.hosts.client!.location, '--for', '1s', '--json']);
    expect(code).toBe(1);
    const d = JSON.parse(stdout) as Diagnosis;
    expect(d.nearLimit).toBe(true);
    const text = (kind: string) =>
      d.findings
        .filter((f) => f.kind === kind)
        .map((f) => f.text)
        .join('\n');
    const commands = (kind: string) => d.findings.filter((f) => f.kind === kind).flatMap((f) => f.reproduce ?? []);
    expect(d.findings.filter((f) => f.nearLimit).map((f) => f.kind)).toEqual(['port-budget']);
    expect(text('port-budget')).toContain(
      `Toward ${server}:8080 this host holds 180 of its 200-port ip_local_port_range (${RANGE}), 90% of the ports toward that ip:port (180 TIME_WAIT, 0 ESTABLISHED, 0 other).`,
    );
    expect(text('port-budget')).not.toContain(':8081');
    expect(text('time-wait')).toContain(
      `180 TIME_WAIT on this host's own local ports: it closed its outgoing connections first (180 toward ${server}:8080)`,
    );
    // Nothing connects while doctor watches: no rate to reproduce, and the text says where the entries come from.
    expect(text('time-wait')).toContain(
      'no connection was opened while doctor watched, so these are from the last 60 s',
    );
    expect(commands('time-wait')[0]).toBe(`npx waitlab scenario short-conn --set ports=${RANGE} --set twReuse=0`);
    expect(text('sysctl')).toContain(
      `tcp_tw_reuse=0: toward ${server}:8080 connect() never takes over this host's 180 TIME_WAIT entries (tcp_tw_reuse=0 forbids connect() to reuse them)`,
    );
    expect(text('sysctl')).toContain('tcp_fin_timeout is 10 here (the default is 60): it does not shorten TIME_WAIT');
    expect(commands('sysctl')).toContain('npx waitlab scenario fin-wait-2 --set finTimeout=10');
  });

  itWithTools(
    ['tmux'],
    'the live view in a real terminal (tmux, 80x24): shows the destination, quits on q, gives the terminal back',
    async () => {
      const { tmux, close, screen, show } = terminal();
      try {
        tmux(
          'send-keys',
          '-t',
          'w',
          `${process.execPath} ${BIN} watch --netns ${lab.hosts.client!.location} --interval 500ms`,
          'Enter',
        );
        await until(() => /PORTS\/S/.test(screen()) && screen().includes(`${server}:8080`), 'the live view');
        const live = screen();
        expect(show('#{alternate_on}')).toBe('1');
        expect(show('#{cursor_flag}')).toBe('0');
        expect(live).toMatch(new RegExp(`${server.replaceAll('.', '\\.')}:8080 +180 +90% +180 +0 +0`));
        expect(live).toMatch(new RegExp(`${server.replaceAll('.', '\\.')}:8081 +1 +0\\.5% +0 +1 +0`));
        expect(live).toMatch(/^TIME_WAIT +180 /m);
        tmux('send-keys', '-t', 'w', 'q');
        await until(
          () => show('#{pane_current_command}') === 'bash' && show('#{alternate_on}') === '0',
          'watch to exit',
        );
        await expectTerminalRestored(tmux, screen);
      } finally {
        close();
      }
    },
  );

  it('a server leaking CLOSE_WAIT: doctor names python3 and the growth, exit 0; watch --pid agrees with ss', async () => {
    await startIn(
      lab,
      'client',
      [
        process.execPath,
        '--import',
        TS_LOADER,
        PORT_LOAD,
        JSON.stringify({ halfClose: { host: server, port: 8082, count: LEAKS, everyMs: 150 } }),
      ],
      procs,
    );
    await until(() => (ssCensus(lab, 'server').states.CLOSE_WAIT ?? 0) >= 5, 'the first leaks');
    const { code, stdout } = await cli(['doctor', '--netns', lab.hosts.server!.location, '--for', '1s', '--json']);
    const d = JSON.parse(stdout) as Diagnosis;
    expect(code).toBe(0);
    expect(d.nearLimit).toBe(false);
    const finding = d.findings.find((f) => f.kind === 'close-wait')!;
    const closeWait = finding.text;
    expect(closeWait).toMatch(
      new RegExp(
        `^CLOSE_WAIT on this host: \\d+ \\(grew by \\d+ in 1 s: an application that does not close\\), held by pid ${leaker.pid} \\(python3\\) \\d+\\.`,
      ),
    );
    expect(finding.reproduce).toEqual(['npx waitlab scenario close-wait-leak']);

    await until(() => ssCensus(lab, 'server').states.CLOSE_WAIT === LEAKS, 'every leak');
    const watched = await cli(['watch', '--pid', String(leaker.pid), '--once', '--json', '--interval', '500ms']);
    const snapshot = JSON.parse(watched.stdout) as Snapshot;
    expect(snapshot.host).toBe(`pid ${leaker.pid}`);
    expect(snapshot.states.CLOSE_WAIT).toBe(LEAKS);
    expect(snapshot.holders).toEqual([
      {
        pid: leaker.pid,
        command: 'python3',
        closeWait: LEAKS,
        finWait2: 0,
        fds: expect.any(Number),
        fdLimit: expect.any(Number),
      },
    ]);
    expect(snapshot.unseen).toEqual({ closeWait: 0, finWait2: 0, why: null });
    // The client's half: FIN_WAIT2 held by its node process (the fd is still open), none orphaned.
    const client = JSON.parse(
      (await cli(['watch', '--netns', lab.hosts.client!.location, '--once', '--json', '--interval', '500ms'])).stdout,
    ) as Snapshot;
    expect(client.states.FIN_WAIT2).toBe(ssCensus(lab, 'client').states.FIN_WAIT2);
    expect(client.holders.find((h) => h.finWait2 > 0)).toMatchObject({ command: 'node', finWait2: LEAKS });
    expect(client.orphans.finWait2).toBe(0);
  });

  // As the machine's root only: in a user namespace there is no other uid to become.
  it.runIf(currentPrivilege() === 'root' && nobodyCanRunCheckout())(
    'as an ordinary user: the leaked sockets counted, their owner "not visible without root"',
    () => {
      const out = execFileSync(
        'ip',
        [
          'netns',
          'exec',
          lab.hosts.server!.location,
          'setpriv',
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          BIN,
          'watch',
          '--once',
          '--json',
          '--interval',
          '300ms',
        ],
        { encoding: 'utf8', cwd: '/' },
      );
      const snapshot = JSON.parse(out) as Snapshot;
      expect(snapshot.states.CLOSE_WAIT).toBe(LEAKS);
      expect(snapshot.holders).toEqual([]);
      expect(snapshot.unseen).toEqual({ closeWait: LEAKS, finWait2: 0, why: 'not visible without root' });
    },
  );

  it('refuses a namespace or pid it was not pointed at plainly: exit 2, nothing entered', async () => {
    for (const args of [
      ['--netns', '../netns/x'],
      ['--netns', 'no-such-namespace-here'],
      ['--pid', '0'],
      ['--pid', '1x'],
      ['--pid', '4194304'],
      ['--netns', 'a', '--pid', '1'],
    ]) {
      const { code, stderr } = await cli(['watch', '--once', ...args]);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toMatch(/--netns|--pid/);
    }
  });
});

describe('waitlab watch --run on a live short-conn run', () => {
  it("--once --json: every host, the client's destination and its connect rate from the kernel's counters", async () => {
    const { cli: run, dir } = await shortConnUnderLoad('6s', 'client');
    try {
      const { code, stdout } = await cli(['watch', '--run', dir, '--once', '--json', '--interval', '1s']);
      expect(code).toBe(0);
      const { hosts } = JSON.parse(stdout) as { hosts: Record<string, Snapshot> };
      expect(Object.keys(hosts).sort()).toEqual(['client', 'server']);
      const [toServer] = hosts.client!.destinations;
      expect(toServer).toMatchObject({ destination: '198.18.0.2:8080' });
      expect(toServer!.ports).toBeGreaterThan(0);
      expect(hosts.client!.portBudget).toBe(1000);
      // short-conn at 50/s: Tcp.ActiveOpens over the reading's interval, loosely (the machine is shared).
      expect(hosts.client!.rates!.activeOpens).toBeGreaterThan(25);
      expect(hosts.client!.rates!.activeOpens).toBeLessThan(75);
      expect(hosts.server!.states.LISTEN).toBe(1);
      expect(hosts.server!.destinations).toEqual([]);
    } finally {
      await run.exit;
    }
    const over = await cli(['watch', '--run', dir, '--once']);
    expect(over.code).toBe(2);
    expect(over.stderr).toContain('the run is over');
  });

  itWithTools(
    ['tmux'],
    'the live view of both hosts ends by itself when the run ends, and gives the terminal back',
    async () => {
      const { cli: run, dir } = await shortConnUnderLoad('8s', 'client');
      const { tmux, close, screen, show } = terminal();
      try {
        tmux('send-keys', '-t', 'w', `${process.execPath} ${BIN} watch --run ${dir} --interval 500ms`, 'Enter');
        await until(
          () =>
            screen().includes('── host client') &&
            screen().includes('── host server') &&
            screen().includes('198.18.0.2:8080'),
          'both hosts on screen',
        );
        expect(show('#{alternate_on}')).toBe('1');
        expect(await run.exit).toBe(0);
        await until(
          () => show('#{pane_current_command}') === 'bash' && screen().includes('the run is over'),
          'watch to end with the run',
        );
        await expectTerminalRestored(tmux, screen);
      } finally {
        close();
        await run.exit;
      }
    },
  );
});

// Issue 20, defect 2 and its check: a second, hostile local user (nobody) names its processes with escape
// sequences (set the pane's title, a newline then a forged "!" line; conceal and clear the screen) and holds
// CLOSE_WAIT sockets. Root runs doctor and watch in a real terminal: the screen shows the names escaped, the
// title is unchanged, and what was on the screen before is still there.
const HOSTILE_HOLDER = `
import signal, socket, sys
signal.alarm(120)
with open('/proc/self/comm', 'w') as comm:
    comm.write(sys.argv[1])
s = socket.socket()
s.bind(('127.0.0.1', int(sys.argv[2])))
s.listen(16)
kept = []
for _ in range(3):
    c = socket.create_connection(('127.0.0.1', int(sys.argv[2])))
    kept.append(s.accept()[0])
    c.close()
print('ready', flush=True)
signal.pause()
`;
// /proc/PID/comm holds 15 bytes.
const TITLE_AND_FORGED_LINE = '\x1b]2;PWN\x07\n!FAKE';
const CONCEAL_AND_CLEAR = '\x1b[8m\x1b[2J\x1b[3J';

describe.runIf(currentPrivilege() === 'root')(
  'terminal safety: doctor and watch beside processes named with escape sequences',
  () => {
    let lab: Lab;
    const procs: ChildProcess[] = [];

    beforeAll(async () => {
      lab = await buildLab({ box: {} });
      for (const [name, port] of [
        [TITLE_AND_FORGED_LINE, '8091'],
        [CONCEAL_AND_CLEAR, '8092'],
      ] as const) {
        // The system's python: root's own (a pyenv shim under /root) is not nobody's to run.
        await startIn(
          lab,
          'box',
          [
            'setpriv',
            '--reuid=nobody',
            '--regid=nogroup',
            '--clear-groups',
            '/usr/bin/python3',
            '-c',
            HOSTILE_HOLDER,
            name,
            port,
          ],
          procs,
        );
      }
    });
    afterAll(async () => {
      for (const p of procs) p.kill('SIGTERM');
      await lab?.teardown();
    });

    itWithTools(
      ['tmux'],
      'issue 20 defect 2: doctor and the live view show both names escaped; the title and the screen stay',
      async () => {
        const { tmux, close, screen, show } = terminal();
        try {
          const title = show('#{pane_title}');
          tmux('send-keys', '-t', 'w', 'clear; echo "before=doctor"', 'Enter');
          await until(() => /^before=doctor$/m.test(screen()), 'the shell');
          tmux(
            'send-keys',
            '-t',
            'w',
            `${process.execPath} ${BIN} doctor --netns ${lab.hosts.box!.location} --for 500ms; echo "doctor=$?"`,
            'Enter',
          );
          await until(() => /^doctor=\d$/m.test(screen()), 'doctor to finish');
          const doctor = screen();
          expect(doctor).toMatch(/^doctor=0$/m);
          // Still on screen: nothing was cleared or concealed, and the title is the shell's.
          expect(doctor).toMatch(/^before=doctor$/m);
          expect(show('#{pane_title}')).toBe(title);
          const joined = doctor.replaceAll(/\n {2}/g, ' ');
          expect(joined).toContain('\\e]2;PWN\\x07\\n!FAKE');
          expect(joined).toContain('\\e[8m\\e[2J\\e[3J');
          expect(doctor).not.toMatch(/^!FAKE/m);

          tmux('send-keys', '-t', 'w', 'clear; echo "before=watch"', 'Enter');
          await until(() => /^before=watch$/m.test(screen()), 'the shell');
          tmux(
            'send-keys',
            '-t',
            'w',
            `${process.execPath} ${BIN} watch --netns ${lab.hosts.box!.location} --interval 500ms`,
            'Enter',
          );
          await until(
            () => screen().includes('COMMAND') && screen().includes('\\e[8m\\e[2J\\e[3'),
            'the live view with both holders',
          );
          const live = screen();
          // The COMMAND column is 16 characters wide: the escaped names cut to it.
          expect(live).toMatch(/ \\e]2;PWN\\x07\\n!F +3 +0 /);
          expect(live).toMatch(/ \\e\[8m\\e\[2J\\e\[3J +3 +0 /);
          expect(show('#{pane_title}')).toBe(title);
          tmux('send-keys', '-t', 'w', 'q');
          await until(
            () => show('#{pane_current_command}') === 'bash' && show('#{alternate_on}') === '0',
            'watch to exit',
          );
          expect(screen()).toMatch(/^before=watch$/m);
          expect(show('#{pane_title}')).toBe(title);
        } finally {
          close();
        }
      },
    );
  },
);
