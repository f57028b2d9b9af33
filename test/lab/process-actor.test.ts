// The process actor with the user's own code: small python3 servers written here, run in real namespaces. Each
// assertion reads what the kernel said (socket states by the process's own fds, the census, exit statuses) or
// what the run wrote (report.json, <actor>.log); none reads a clock.
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { isWaitlabError } from '../../src/core/errors.ts';
import { defineScenario, type ScenarioSpec } from '../../src/core/scenario.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import type { ChildProcess } from 'node:child_process';
import { lineReader, type AgentEvent } from '../../src/agent/protocol.ts';
import { netnsDriver } from '../../src/lab/netns-driver.ts';
import { labNamespaces, tempDir, until, type TestReport, running } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const PYTHON = '/usr/bin/python3';

/** A directory user nobody can read (mkdtemp makes 0700), holding one script. */
function scriptDir(name: string, source: string): string {
  const dir = tempDir('waitlab-process-');
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, name), source, { mode: 0o644 });
  return dir;
}

function planIn(dir: string, name: string, spec: ScenarioSpec) {
  // The scenario "file" sits in the script's directory: the process's cwd defaults there.
  return resolvePlan(
    defineScenario({ name, description: 'test', params: {}, build: () => spec }),
    join(dir, 'scenario.ts'),
    {},
  );
}

/** Processes whose command line names this file: none may outlive its run. */
function processesRunning(file: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(file)) out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

async function failedRun(
  plan: ReturnType<typeof planIn>,
): Promise<{ err: Error & { runDir?: string }; report: TestReport }> {
  const err = await runScenario(plan, { outDir: join(tempDir(), 'run') }).then(
    () => undefined,
    (e: Error & { runDir?: string }) => e,
  );
  if (!err) throw new Error('the run was expected to fail');
  return { err, report: JSON.parse(readFileSync(join(err.runDir!, 'report.json'), 'utf8')) as TestReport };
}

const NEVER_CLOSES = `
import os, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(os.environ['PORT'])))
s.listen(1024)
print('listening on', os.environ['PORT'], 'as uid', os.getuid(), 'server at', os.environ['WAITLAB_HOST_server'], flush=True)
held = []
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')
    held.append(c)  # never closed: each client's FIN leaves a CLOSE_WAIT here
`;

describeWithTools(['python3', 'setpriv'], 'process actor', () => {
  describe('a python3 server that never closes on EOF, flooded by a client that closes first', () => {
    let report: TestReport;
    let dir: string;
    let connected: number;
    beforeAll(async () => {
      const scripts = scriptDir('app.py', NEVER_CLOSES);
      const plan = planIn(scripts, 'process-close-wait', {
        hosts: { client: {}, server: {} },
        actors: {
          api: { kind: 'process', host: 'server', command: [PYTHON, 'app.py'], env: { PORT: '8080' }, port: 8080 },
          flood: {
            kind: 'short-conn-client',
            host: 'client',
            target: 'api',
            rate: '50/s',
            duration: '2s',
            closer: 'client',
            closeStyle: 'close',
          },
        },
      });
      const run = await runScenario(plan, { outDir: join(tempDir(), 'run') });
      report = run.report as TestReport;
      dir = run.dir;
      connected = report.actors.flood!['connected'] as number;
    });

    it("leaves one CLOSE_WAIT per connection on the server, every one held by the process's own fds", () => {
      expect(connected).toBeGreaterThanOrEqual(90);
      expect(report.actors.flood!['ok']).toBe(connected);
      expect(report.hosts.server!.final.CLOSE_WAIT).toBe(connected);
      const api = report.actors.api!;
      expect(api['sockets'].peak.CLOSE_WAIT).toBe(connected);
      expect(api['sockets'].now.LISTEN).toBe(1);
    });

    it('names the process, its command and pid in the CLOSE_WAIT finding', () => {
      const api = report.actors.api!;
      expect(api['pid']).toBeGreaterThan(1);
      expect(report.findings.join('\n')).toContain(
        `CLOSE_WAIT ${connected.toLocaleString('en-US')} held by your process \`${PYTHON} app.py\` (pid ${api['pid']})`,
      );
    });

    it("runs it as nobody with the lab's addresses in its environment, its output in api.log", () => {
      expect(report.actors.api!['user']).toMatch(/^nobody \(uid 65534,/);
      expect(readFileSync(join(dir, 'api.log'), 'utf8')).toBe(
        `listening on 8080 as uid 65534 server at ${report.hosts.server!.address}\n`,
      );
      expect(report.actors.api!['log']).toEqual({
        file: 'api.log',
        bytes: readFileSync(join(dir, 'api.log')).length,
        cut: false,
      });
    });

    it("stops it with SIGTERM, which python's default handling obeys", () => {
      expect(report.actors.api!['exit']).toMatchObject({ code: null, signal: 'SIGTERM', asked: true });
    });
  });

  it('a process that never becomes ready stops the run with exit 3 and the tail of its stderr', async () => {
    const scripts = scriptDir(
      'slow.py',
      `
import sys, time
for i in range(1, 26):
    print('warming up step', i, file=sys.stderr, flush=True)
time.sleep(60)
`,
    );
    const plan = planIn(scripts, 'process-never-ready', {
      hosts: { server: {} },
      actors: {
        api: { kind: 'process', host: 'server', command: [PYTHON, 'slow.py'], port: 8080, readyTimeout: '1s' },
      },
    });
    const { err, report } = await failedRun(plan);
    expect(isWaitlabError(err) && err.code).toBe('WAITLAB_ACTOR_FAILED');
    expect(exitCodeFor(err)).toBe(3);
    expect(err.message).toMatch(
      /^process api \(`\/usr\/bin\/python3 slow\.py`, pid \d+\) did not become ready within 1\.00 s: no socket listening on port 8080 in host server/,
    );
    // The last 20 lines: step 6 to step 25, not step 5.
    expect(err.message).toContain('warming up step 6\n');
    expect(err.message).toContain('warming up step 25');
    expect(err.message).not.toContain('warming up step 5\n');
    expect(report.errorCode).toBe('WAITLAB_ACTOR_FAILED');
    expect(processesRunning('slow.py')).toEqual([]);
    expect(labNamespaces(process.pid)).toEqual([]);
  });

  it('a process that crashes mid-load ends the run with its exit code named, a whole report, and nothing left', async () => {
    const scripts = scriptDir(
      'crash.py',
      NEVER_CLOSES.replace(
        'held = []',
        `import threading
threading.Timer(3.0, lambda: (print('giving up', flush=True), os._exit(3))).start()
held = []`,
      ),
    );
    const plan = planIn(scripts, 'process-crash', {
      hosts: { client: {}, server: {} },
      actors: {
        api: { kind: 'process', host: 'server', command: [PYTHON, 'crash.py'], env: { PORT: '8080' }, port: 8080 },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'api',
          rate: '20/s',
          duration: '10s',
          closeStyle: 'close',
        },
      },
    });
    const { err, report } = await failedRun(plan);
    expect(exitCodeFor(err)).toBe(3);
    expect(err.message).toMatch(
      /^process api \(`\/usr\/bin\/python3 crash\.py`, pid \d+\) exited with code 3 at [\d.]+ m?s, before the run asked it to stop/,
    );
    expect(report.errorCode).toBe('WAITLAB_ACTOR_FAILED');
    expect(report.error).toBe(err.message);
    expect(report.actors.api!['exit']).toMatchObject({ code: 3, signal: null, asked: false });
    // Whole: every host's end counters and both actors' stats, the flood's up to the crash.
    for (const host of ['client', 'server'])
      expect(report.hosts[host]!.counters.delta['Tcp.ActiveOpens']).toBeTypeOf('number');
    expect(report.actors.flood!['attempts']).toBeGreaterThan(0);
    expect(report.actors.flood!['attempts']).toBeLessThan(200);
    expect(existsSync(join(err.runDir!, 'summary.md'))).toBe(true);
    expect(processesRunning('crash.py')).toEqual([]);
    expect(labNamespaces(process.pid)).toEqual([]);
  });

  it('a process that ignores SIGTERM is SIGKILLed after its stop grace, the signal in its stats', async () => {
    const scripts = scriptDir(
      'stubborn.py',
      `
import signal, socket, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
for i in range(100):
    print('x' * 49, flush=True)
s = socket.socket()
s.bind(('0.0.0.0', 9000))
s.listen(8)
print('ignoring SIGTERM', flush=True)
time.sleep(120)
`,
    );
    const plan = planIn(scripts, 'process-stubborn', {
      hosts: { server: {} },
      actors: {
        api: {
          kind: 'process',
          host: 'server',
          command: [PYTHON, 'stubborn.py'],
          user: 'root',
          ready: { log: '/ignoring SIG\\w+/' },
          stopGrace: '1s',
          maxLogBytes: 1024,
        },
      },
    });
    const { report, dir } = await runScenario(plan, { outDir: join(tempDir(), 'run') });
    const api = (report as TestReport).actors.api!;
    expect(api['user']).toMatch(/^root \(uid 0,/);
    expect(api['exit']).toMatchObject({ code: null, signal: 'SIGKILL', asked: true });
    expect(processesRunning('stubborn.py')).toEqual([]);
    // Its output, capped: 20 whole lines of 50 bytes fit in 1,024, then one line says where it was cut.
    const log = readFileSync(join(dir, 'api.log'), 'utf8').split('\n');
    expect(log.slice(0, 20)).toEqual(Array(20).fill('x'.repeat(49)));
    expect(log.slice(20)).toEqual(['[waitlab: output cut here, after 1000 bytes (maxLogBytes 1024)]', '']);
    expect(api['log']).toEqual({ file: 'api.log', bytes: 1000, cut: true });
  });

  it("dies with its agent when the agent is SIGKILLed (the kernel's parent-death signal, set after setpriv dropped to nobody)", async () => {
    const scripts = scriptDir('app.py', NEVER_CLOSES);
    const plan = planIn(scripts, 'process-orphan', {
      hosts: { server: {} },
      actors: {
        api: { kind: 'process', host: 'server', command: [PYTHON, 'app.py'], env: { PORT: '8080' }, port: 8080 },
      },
    });
    const lab = await netnsDriver.build(plan, () => undefined);
    try {
      const agent = lab.spawnAgent('server') as ChildProcess;
      const events: AgentEvent[] = [];
      agent.stdout!.on(
        'data',
        lineReader(
          (e) => events.push(e as AgentEvent),
          () => undefined,
        ),
      );
      agent.stdin!.on('error', () => undefined);
      const send = (c: object) => agent.stdin!.write(`${JSON.stringify(c)}\n`);
      const next = (type: AgentEvent['type']) =>
        until(() => events.find((e) => e.type === type || e.type === 'fatal' || e.type === 'actor-failed'), type);
      await next('hello');
      send({
        cmd: 'init',
        host: plan.hosts.server,
        actors: Object.values(plan.actors),
        intervalMs: 100,
        t0: Date.now(),
        deadlineMs: 60_000,
      });
      await next('ready');
      send({ cmd: 'serve' });
      expect((await next('serving')).type).toBe('serving');
      const pids = processesRunning('app.py').filter((p) => readlinkSync(`/proc/${p}/cwd`) === scripts);
      expect(pids).toHaveLength(1);
      expect(readFileSync(`/proc/${pids[0]}/status`, 'utf8')).toMatch(/^Uid:\t65534\t/m);
      agent.kill('SIGKILL');
      await until(() => !running(pids[0]!), 'the process to die with its agent');
    } finally {
      await lab.teardown();
    }
  });
});
