#!/usr/bin/env node
// CPU of `waitlab watch` on a host with many sockets, next to `ss -tan` run at the same interval: the peer
// that reads the same table. Run through `waitlab privileged` as root (it builds one lab namespace):
//   node bin/waitlab.js privileged -- node bench/watch-cpu.mjs [sockets] [seconds]
// One lab host gets SOCKETS ESTABLISHED sockets: SOCKETS / 2 loopback connections held open, both ends in the
// host, 2 server ports per holder process (ip_local_port_range 1024-65535: no destination runs out); TIME_WAIT would
// not last through both readers (60 s). Then each reader runs for SECONDS
// after a warm-up: watch's live view in a real terminal (tmux) at its default interval, and a shell loop of
// `ss -tan` every 2 s. CPU is user + system time from /proc/<pid>/stat (a reader's kernel time for reading
// /proc/net/tcp is its own system time), children included. Prints a Markdown table for docs/benchmarks.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolvePlan, defineScenario } from '../dist/index.js';
import { netnsDriver } from '../dist/lab/netns-driver.js';

const sockets = Number(process.argv[2] ?? 100_000);
const seconds = Number(process.argv[3] ?? 20);
const WARMUP_MS = 5_000;
const INTERVAL_S = 2;
const ROOT = resolve(import.meta.dirname, '..');
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** User (utime + cutime) and system (stime + cstime) time of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(f[11]) + Number(f[13])) / TICKS, system: (Number(f[12]) + Number(f[14])) / TICKS };
}

/** Every process whose command line contains each of `marks`. */
function pidsOf(...marks) {
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmdline = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (marks.every((m) => cmdline.includes(m))) out.push(Number(e));
    } catch {
      // exited
    }
  }
  return out;
}

function sumCpu(pids) {
  const all = pids.map(cpuSeconds);
  return { user: all.reduce((s, c) => s + c.user, 0), system: all.reduce((s, c) => s + c.system, 0) };
}

/** CPU seconds the processes matching `marks` spend during `seconds`, after a warm-up. */
async function measure(...marks) {
  await sleep(WARMUP_MS);
  const pids = pidsOf(...marks);
  if (pids.length === 0) throw new Error(`nothing runs for ${marks.join(' ')}`);
  const before = sumCpu(pids);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const after = sumCpu(pids);
  const user = after.user - before.user;
  const system = after.system - before.system;
  return { cpu: user + system, user, system, wall: (performance.now() - t0) / 1000 };
}

const plan = resolvePlan(
  defineScenario({
    name: 'watch-cpu',
    description: 'one host full of TIME_WAIT sockets',
    params: {},
    build: () => ({ hosts: { box: { sysctls: { 'net.ipv4.ip_local_port_range': '1024 65535' } } }, actors: {} }),
  }),
  'bench',
  {},
);
const lab = await netnsDriver.build(plan, () => undefined);
const ns = lab.hosts.box.location;
const tmuxDir = mkdtempSync(join(tmpdir(), 'waitlab-bench-'));
const tmuxSocket = join(tmuxDir, 'tmux');
const tmux = (...args) => execFileSync('tmux', ['-S', tmuxSocket, ...args], { encoding: 'utf8' });
try {
  // Each holder keeps both ends of its connections: 2 fds a pair, under this machine's open-files limit.
  const pairsPerHolder = Math.floor((Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' })) - 100) / 2);
  const fillStart = performance.now();
  const holders = [];
  for (let left = sockets / 2, base = 8080; left > 0; left -= pairsPerHolder, base += 10) {
    const pairs = Math.min(left, pairsPerHolder);
    holders.push(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          resolve(ROOT, 'bench/hold-connections.mjs'),
          String(pairs),
          String(base),
          '2',
          '64',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
  }
  const counts = await Promise.all(
    holders.map(
      (h) =>
        new Promise((r, reject) => {
          let out = '';
          h.stdout.on('data', (d) => (out += d) && out.includes('\n') && r(Number(out)));
          h.on('exit', (code) => reject(new Error(`a holder exited (${code})`)));
        }),
    ),
  );
  const made = counts.reduce((s, c) => s + c, 0);
  const inuse = () =>
    Number(
      /TCP: inuse (\d+)/.exec(
        execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/sockstat'], { encoding: 'utf8' }),
      )?.[1],
    );
  const before = inuse();
  const fillSeconds = (performance.now() - fillStart) / 1000;

  tmux(
    'new-session',
    '-d',
    '-s',
    'w',
    '-x',
    '100',
    '-y',
    '40',
    `${process.execPath} ${resolve(ROOT, 'bin/waitlab.js')} watch --netns ${ns}`,
  );
  // The command, and the same command again inside the namespace (under nsenter), which does the reading.
  const watch = await measure('waitlab.js\0watch\0', ns);
  const watchers = pidsOf('waitlab.js\0watch\0', ns).length;
  const screen = tmux('capture-pane', '-p', '-t', 'w');
  tmux('kill-server');

  const loop = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'sh',
      '-c',
      `while :; do ss -tan > /dev/null; sleep ${INTERVAL_S}; done # ss-peer-${process.pid}`,
    ],
    { stdio: 'ignore' },
  );
  const ss = await measure(`ss-peer-${process.pid}`);
  loop.kill('SIGKILL');
  for (const p of pidsOf(`ss-peer-${process.pid}`)) process.kill(p, 'SIGKILL');
  const after = inuse();
  for (const h of holders) h.kill('SIGTERM');

  if (!/ESTABLISHED +[\d,]+/.test(screen)) throw new Error(`the live view did not show the states:\n${screen}`);
  const pct = (m) => `${((m.cpu / m.wall) * 100).toFixed(1)}%`;
  process.stdout.write(
    `connections held ${made} by ${holders.length} processes (both ends in the host), opened in ${fillSeconds.toFixed(1)} s; sockstat inuse ${before} before the readers, ${after} after them\n\n`,
  );
  const row = (name, m) =>
    `| ${name} | ${m.user.toFixed(2)} | ${m.system.toFixed(2)} | ${m.wall.toFixed(1)} s | ${pct(m)} |\n`;
  process.stdout.write('| reader, every 2 s | user s | system s | over | CPU (of one core) |\n|---|---|---|---|---|\n');
  process.stdout.write(row(`waitlab watch (live view in tmux, ${watchers} processes)`, watch));
  process.stdout.write(row('ss -tan', ss));
  process.stdout.write(
    `\nwatch / ss: ${(watch.cpu / watch.wall / (ss.cpu / ss.wall)).toFixed(2)}\n\nthe live view's last screen:\n${screen}\n`,
  );
} finally {
  try {
    execFileSync('tmux', ['-S', tmuxSocket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  rmSync(tmuxDir, { recursive: true, force: true });
  await lab.teardown();
}
