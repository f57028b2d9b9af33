#!/usr/bin/env node
// The benchmark (`npm run bench`, outside `npm test`): every figure a ratio against a peer run side by side in the
// same lab on this machine, written into docs/benchmarks.md between its bench markers.
//   census      one census at 1k..100k TIME_WAIT sockets (netlink and /proc) against `ss -tan` and `ss -s`
//   sampler     the agent's sampler at 10 Hz: its CPU against `ss -tan` run at 10 Hz, censuses, skipped ticks
//   flood       short connections per second against one nginx (Connection: close): the flood, wrk, ab, autocannon
//   lab         lab build and teardown for 2, 8, 64 hosts against the same `ip` commands run from a shell, and a
//               200-host lab's build and teardown against their goals (2 s, 1 s), with the load average
//   readiness   "lab built" to "load starting" of a run against starting node itself in a lab namespace
//   soak        controller and agent memory over a 10-minute flood at a steady rate, bytes of samples.ndjson per minute
//   scale       a lab of 200 client hosts served by agents of many hosts: built, ready, torn down, memory, load average
//               (bench/scaled-lab.mjs), beside 16 replicas with one agent per host
// `--smoke` (run by .ci/run) runs every section at its smallest and checks the counts, writes nothing.
// `--only=census,flood,lab,ready,soak,scale` runs the sections named and prints them, writing nothing.
// Run it through `waitlab privileged` (npm run bench does). Every load is bounded in count or time.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { defineScenario, resolvePlan, runScenario } from '../dist/index.js';
import { netnsDriver } from '../dist/lab/netns-driver.js';
import { hostConfigurator } from '../dist/lab/host-configuration.js';
import { nginxServerConfig } from '../dist/actors/http-server-nginx.js';
import { nginxVersion } from '../dist/actors/nginx-process.js';
import { scaledLab } from './scaled-lab.mjs';
import { holdSockets } from './helpers/held-sockets.mjs';
import { CENSUS_CPU_SHARE } from '../dist/sampler/census-budget.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = join(ROOT, 'docs/benchmarks.md');
const START = '<!-- bench:start (written by npm run bench) -->';
const END = '<!-- bench:end -->';
const smoke = process.argv.includes('--smoke');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const runs = (section) => !only || only.includes(section);
const SIZE = smoke
  ? {
      census: [1_000],
      sampler: [1_000],
      samplerSeconds: 2,
      reps: 3,
      floodSeconds: 2,
      floodRounds: 1,
      hosts: [2],
      labReps: 1,
      bigLab: 16,
    }
  : {
      census: [1_000, 10_000, 50_000, 100_000, 250_000],
      sampler: [1_000, 50_000, 100_000, 250_000],
      samplerSeconds: 10,
      reps: 10,
      floodSeconds: 10,
      floodRounds: 2,
      hosts: [2, 8, 64],
      labReps: 3,
      bigLab: 200,
    };
const CONCURRENCY = 32;
/** Census levels above this hold ESTABLISHED sockets, not TIME_WAIT (see censusAndSampler). */
const HELD_ABOVE = 100_000;
const PORT = 8080;

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}x` : '-');
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

const cleanups = [];
const cleanup = async () => {
  while (cleanups.length)
    await cleanups
      .pop()()
      .catch((err) => log(`cleanup: ${err.message}`));
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void cleanup().then(() => process.exit(signal === 'SIGINT' ? 130 : 143)));
}

async function buildLab(name, hosts) {
  const plan = resolvePlan(
    defineScenario({ name, description: 'bench', params: {}, build: () => ({ hosts, actors: {} }) }),
    'bench/bench.mjs',
    {},
  );
  const lab = await netnsDriver.build(plan, () => undefined);
  cleanups.push(() => lab.teardown());
  return lab;
}

const inHost = (lab, host, command, args, options = {}) =>
  execFileSync('ip', ['netns', 'exec', lab.hosts[host].location, command, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    ...options,
  });
const nodeInHost = (lab, host, script, args, env = {}) =>
  JSON.parse(
    inHost(lab, host, process.execPath, [join(ROOT, 'bench/helpers', script), ...args.map(String)], {
      env: { ...process.env, ...env },
    }),
  );
const passiveOpens = (lab, host) =>
  Number(
    /^Tcp: (?:\S+ ){5}(\d+)/m.exec(
      inHost(lab, host, 'cat', ['/proc/net/snmp'])
        .split('\n')
        .filter((l) => l.startsWith('Tcp:'))[1],
    )?.[1],
  );

// Many TIME_WAIT sockets in one namespace: every local port, no reuse of a TIME_WAIT entry, room for 100k+ of them.
const MANY_SOCKETS = {
  'net.ipv4.ip_local_port_range': '1024 65535',
  'net.ipv4.tcp_tw_reuse': 0,
  'net.ipv4.tcp_max_tw_buckets': 262144,
};

async function censusAndSampler(out) {
  const levels = [...new Set([...SIZE.census, ...SIZE.sampler])].sort((a, b) => a - b);
  const lab = await buildLab(
    'bench-census',
    Object.fromEntries(levels.map((n) => [`s${n}`, { sysctls: MANY_SOCKETS }])),
  );
  const census = [];
  const sampler = [];
  for (const n of levels) {
    // TIME_WAIT lasts 60 s: each level's sockets are made in their own namespace right before they are counted. Above
    // HELD_ABOVE they are ESTABLISHED connections held open instead: this machine makes TIME_WAIT at about 4,000 a
    // second, so 250,000 of them would begin to expire before the last was made.
    const held = n > HELD_ABOVE;
    const state = held ? 'established' : 'timeWait';
    log(`${fmt(n)} ${held ? 'ESTABLISHED' : 'TIME_WAIT'} sockets`);
    const holders = held ? await holdSockets(lab.hosts[`s${n}`].location, n) : undefined;
    if (!held) nodeInHost(lab, `s${n}`, 'make-time-wait.mjs', [n, 1_000]);
    if (SIZE.census.includes(n)) {
      const r = nodeInHost(lab, `s${n}`, 'census-timing.mjs', [SIZE.reps]);
      census.push({ n, held, ...r });
      check(r.counts.netlink.source === 'netlink', `census at ${n}: netlink source, not ${r.counts.netlink.source}`);
      // Held connections: every socket but the listeners (one end may wait in SYN_RECV), and ss -s's ESTABLISHED.
      const counted = held ? 'connections' : state;
      check(
        r.counts['netlink, C'][counted] === n &&
          r.counts.netlink[counted] === n &&
          r.counts.proc[counted] === n &&
          r.counts['ss -s'][state] === n,
        `census at ${n}: counts ${JSON.stringify(r.counts)}`,
      );
    }
    if (SIZE.sampler.includes(n)) {
      // Counted in C (the agent's default), then counted in JavaScript over the same netlink rows: side by side.
      for (const counting of ['c', 'js']) {
        const r = nodeInHost(
          lab,
          `s${n}`,
          'sampler-cpu.mjs',
          [SIZE.samplerSeconds],
          counting === 'js' ? { WAITLAB_CENSUS: 'netlink-js' } : {},
        );
        sampler.push({ n, held, ...r });
        check(r.counting === counting, `sampler at ${n}: counted in ${r.counting}, not ${counting}`);
        check(r.sampler.samples > 0 && r.sampler.censuses > 0, `sampler at ${n}: no sample or census`);
      }
    }
    holders?.stop();
  }
  await cleanups.pop()();

  out.push('### Census: one census of N sockets', '');
  out.push(
    `Median of ${SIZE.reps} rounds, each a census through netlink sock_diag counted in C (native/census.c: the agent's census), one through netlink counted in JavaScript, and one through /proc/net/tcp in a process that stays up (as the agent's sampler does), then \`ss -tan > /dev/null\` and \`ss -s\` each run as a whole process, in the namespace holding the sockets (bench/helpers/census-timing.mjs). N TIME_WAIT sockets (make-time-wait.mjs) up to ${fmt(HELD_ABOVE)}, N ESTABLISHED held open above it (held-sockets.mjs: TIME_WAIT expire after 60 s, before this machine has made 250,000). Every census counted exactly N sockets (held: N sockets besides the listeners, a few of them SYN_RECV on the server side while the accept queue is full) as \`ss -s\` did${failures.some((f) => f.startsWith('census')) ? ' (NOT: see the failures below)' : ''}.`,
    '',
  );
  out.push(
    '| sockets | state | netlink, C census ms | netlink, JS census ms | /proc census ms | `ss -tan` ms | `ss -s` ms | C / `ss -tan` | netlink JS / `ss -tan` | /proc / `ss -tan` | C / netlink JS |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const c of census) {
    const m = c.medianMs;
    out.push(
      `| ${fmt(c.n)} | ${c.held ? 'ESTABLISHED' : 'TIME_WAIT'} | ${fmt(m['netlink, C'], 1)} | ${fmt(m.netlink, 1)} | ${fmt(m.proc, 1)} | ${fmt(m['ss -tan'], 1)} | ${fmt(m['ss -s'], 1)} | ${ratio(m['netlink, C'], m['ss -tan'])} | ${ratio(m.netlink, m['ss -tan'])} | ${ratio(m.proc, m['ss -tan'])} | ${ratio(m['netlink, C'], m.netlink)} |`,
    );
  }
  out.push('', '### Sampler at 10 Hz', '');
  out.push(
    `The agent's sampler (cheap counters every tick, the census beside them, counted in C; then again with WAITLAB_CENSUS=netlink-js, counted in JavaScript) for ${SIZE.samplerSeconds} s in a namespace holding N sockets (as above: TIME_WAIT, or ESTABLISHED held open above ${fmt(HELD_ABOVE)}); the census within its share of a core (src/sampler/census-budget.ts: ${CENSUS_CPU_SHARE * 100}%), the counters at every tick; then \`ss -tan\` run every 100 ms for as long in the same namespace; CPU time of the sampler's process against that of the \`ss\` processes (bench/helpers/sampler-cpu.mjs).`,
    '',
  );
  out.push(
    '| sockets | state | census source | counted in | sampler CPU, % of a core | `ss -tan` at 10 Hz, % of a core | sampler / ss | samples | of which with a census | censuses / s | ticks without any sample |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const s of sampler) {
    const cpu = (100 * s.sampler.cpuSeconds) / s.sampler.wallSeconds;
    const ss = (100 * s.ss.cpuSeconds) / s.ss.wallSeconds;
    out.push(
      `| ${fmt(s.n)} | ${s.held ? 'ESTABLISHED' : 'TIME_WAIT'} | ${s.source.source} | ${s.counting === 'c' ? 'C' : 'JavaScript'} | ${fmt(cpu, 1)} | ${fmt(ss, 1)} | ${ratio(cpu, ss)} | ${s.sampler.samples} | ${s.sampler.censuses} | ${fmt(s.sampler.censuses / s.sampler.wallSeconds, 1)} | ${s.sampler.skippedTicks} |`,
    );
  }
  out.push('');
}

/** `/usr/bin/time` around a command: its wall and CPU seconds, from its last stderr line. */
function timed(lab, host, argv) {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', lab.hosts[host].location, '/usr/bin/time', '-f', 'TIME %e %U %S', ...argv],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
  const m = /TIME (\S+) (\S+) (\S+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), stdout: r.stdout };
}

async function flood(out) {
  const lab = await buildLab('bench-flood', {
    client: { sysctls: { 'net.ipv4.ip_local_port_range': '1024 65535' } },
    server: {},
  });
  const dir = mkdtempSync(join(tmpdir(), 'waitlab-bench-nginx-'));
  const settings = {
    name: 'bench',
    binary: '/usr/sbin/nginx',
    host: '0.0.0.0',
    port: PORT,
    backlog: 4096,
    workers: 1,
    keepAlive: false,
    keepAliveTimeoutMs: 5000,
    keepAliveRequests: 0,
    closer: 'server',
    responseBytes: 64,
  };
  const version = nginxVersion(settings.binary);
  writeFileSync(join(dir, 'body'), Buffer.alloc(settings.responseBytes, 'x'));
  writeFileSync(join(dir, 'nginx.conf'), nginxServerConfig(settings, dir, version, false));
  spawnSync('chmod', ['755', dir]);
  const nginx = spawn(
    'ip',
    [
      'netns',
      'exec',
      lab.hosts.server.location,
      settings.binary,
      '-p',
      dir,
      '-c',
      join(dir, 'nginx.conf'),
      '-e',
      join(dir, 'error.log'),
    ],
    { stdio: 'ignore' },
  );
  cleanups.push(async () => {
    nginx.kill('SIGKILL');
    spawnSync('ip', [
      'netns',
      'exec',
      lab.hosts.server.location,
      'sh',
      '-c',
      `kill -9 $(cat ${dir}/nginx.pid) 2>/dev/null`,
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 100 && !inHost(lab, 'server', 'ss', ['-Htln', `sport = :${PORT}`]).trim(); i++)
    await new Promise((r) => setTimeout(r, 50));
  const url = `http://${lab.hosts.server.address}:${PORT}/`;
  const s = SIZE.floodSeconds;
  const tools = {
    'waitlab flood': [
      process.execPath,
      join(ROOT, 'bench/helpers/flood.mjs'),
      lab.hosts.server.address,
      PORT,
      CONCURRENCY,
      s,
    ],
    'waitlab flood, 2 workers': [
      process.execPath,
      join(ROOT, 'bench/helpers/flood.mjs'),
      lab.hosts.server.address,
      PORT,
      CONCURRENCY,
      s,
      2,
    ],
    'waitlab flood, engine native': [
      process.execPath,
      join(ROOT, 'bench/helpers/flood.mjs'),
      lab.hosts.server.address,
      PORT,
      CONCURRENCY,
      s,
      1,
      'native',
    ],
    'waitlab flood, engine native, 2 workers': [
      process.execPath,
      join(ROOT, 'bench/helpers/flood.mjs'),
      lab.hosts.server.address,
      PORT,
      CONCURRENCY,
      s,
      2,
      'native',
    ],
    wrk: ['wrk', '-t2', `-c${CONCURRENCY}`, `-d${s}s`, '-H', 'Connection: close', url],
    ab: ['ab', '-q', '-c', String(CONCURRENCY), '-t', String(s), '-n', '10000000', '-s', '5', url],
    autocannon: [
      process.execPath,
      join(ROOT, 'node_modules/autocannon/autocannon.js'),
      '-c',
      String(CONCURRENCY),
      '-d',
      String(s),
      '-H',
      'Connection: close',
      url,
    ],
  };
  const results = Object.fromEntries(Object.keys(tools).map((t) => [t, []]));
  const names = Object.keys(tools);
  for (let round = 0; round < SIZE.floodRounds; round++) {
    // Each round in another order, so no tool always meets the TIME_WAIT the one before it left on the server.
    for (const name of round % 2 ? [...names].reverse() : names) {
      log(`flood: ${name}, round ${round + 1}`);
      const before = passiveOpens(lab, 'server');
      const t = timed(lab, 'client', tools[name].map(String));
      const conns = passiveOpens(lab, 'server') - before;
      results[name].push({ ...t, conns });
      if (name.startsWith('waitlab')) {
        // The flood's own tally against the server's: every connection answered, no error.
        const stats = JSON.parse(t.stdout);
        check(
          stats.errorCount === 0 && stats.responses === stats.connected && stats.ok === stats.connected,
          `flood: ${name} counted ${stats.errorCount} errors, ${stats.responses} responses and ${stats.ok} ok of ${stats.connected} connections`,
        );
        check(
          stats.connected <= conns && stats.connected >= conns * 0.99,
          `flood: ${name} counted ${stats.connected} connections, the server ${conns}`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  await cleanup();

  const row = (name) => {
    const rs = results[name];
    const rate = median(rs.map((r) => r.conns / r.wall));
    const cpuPerK = median(rs.map((r) => (1000 * r.cpu) / r.conns));
    return { rate, cpuPerK, conns: rs.map((r) => r.conns) };
  };
  const wrk = row('wrk');
  for (const name of names) check(row(name).rate > 0, `flood: ${name} made no connection`);
  out.push('### Flood: short connections per second against one nginx', '');
  out.push(
    `One nginx ${version.text} (1 worker, \`keepalive_timeout 0\`: it closes after each 64-byte response; the config http-server engine nginx generates) in one namespace, each tool in another for ${s} s with ${CONCURRENCY} connections at a time, ${SIZE.floodRounds} round(s) in alternating order. Connections are the server's own count (Tcp.PassiveOpens); per second over the tool's wall time, start-up included; CPU is the tool's user + system time (\`/usr/bin/time\`). The waitlab flood is the short-conn-client actor in the closed model (bench/helpers/flood.mjs): its node engine on one event loop and on two worker threads, its native engine (native/flood.c, epoll) on one and on two worker threads; wrk and autocannon send \`Connection: close\`, ab speaks HTTP/1.0.`,
    '',
  );
  out.push(
    '| tool | connections / s (median) | against wrk | CPU s per 1,000 connections | against wrk | connections per run |',
    '|---|---|---|---|---|---|',
  );
  for (const name of names) {
    const r = row(name);
    out.push(
      `| ${name} | ${fmt(r.rate)} | ${ratio(r.rate, wrk.rate)} | ${fmt(r.cpuPerK, 3)} | ${ratio(r.cpuPerK, wrk.cpuPerK)} | ${r.conns.map((c) => fmt(c)).join(', ')} |`,
    );
  }
  out.push('');
}

/** The ip commands the netns driver runs for a lab of n hosts on one network, as a shell script: the peer of a build. */
function ipScript(id, n) {
  const lines = [
    `ip netns add ${id}-bridge`,
    `ip -n ${id}-bridge link add br0 type bridge`,
    `ip -n ${id}-bridge link set br0 up`,
  ];
  for (let i = 1; i <= n; i++) {
    const ns = `${id}-h${i}`;
    lines.push(
      `ip netns add ${ns}`,
      `ip -n ${id}-bridge link add p${i} type veth peer name eth0 netns ${ns}`,
      `ip -n ${id}-bridge link set p${i} master br0 up`,
    );
    lines.push(
      `ip -n ${ns} link set lo up`,
      `ip -n ${ns} addr add 198.18.0.${i}/24 dev eth0`,
      `ip -n ${ns} link set eth0 up`,
    );
  }
  return {
    build: lines.join('\n'),
    teardown: [`${id}-bridge`, ...Array.from({ length: n }, (_, i) => `${id}-h${i + 1}`)]
      .map((ns) => `ip netns del ${ns}`)
      .join('\n'),
  };
}

/** A plan of n hosts h1..hn on one network, no actors: built straight through the driver (no replica cap). */
const manyHostsPlan = (n) =>
  resolvePlan(
    defineScenario({
      name: 'bench-lab',
      description: 'bench',
      params: {},
      build: () => ({
        hosts: Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i + 1}`, {}])),
        actors: {},
      }),
    }),
    'bench/bench.mjs',
    {},
  );

async function labs(out) {
  const rows = [];
  for (const n of SIZE.hosts) {
    const ours = { build: [], teardown: [] };
    const peer = { build: [], teardown: [] };
    for (let r = 0; r < SIZE.labReps; r++) {
      const plan = manyHostsPlan(n);
      let t = performance.now();
      const lab = await netnsDriver.build(plan, () => undefined);
      ours.build.push(performance.now() - t);
      t = performance.now();
      await lab.teardown();
      ours.teardown.push(performance.now() - t);
      // The peer's namespaces carry this process's lab prefix, so a crash leaves them to the next run's reaping.
      const script = ipScript(`wl${process.pid}n9${r}${n}`, n);
      cleanups.push(async () => void spawnSync('sh', ['-c', script.teardown.replaceAll('\n', ' 2>/dev/null;\n')]));
      t = performance.now();
      execFileSync('sh', ['-e', '-c', script.build]);
      peer.build.push(performance.now() - t);
      t = performance.now();
      execFileSync('sh', ['-e', '-c', script.teardown]);
      peer.teardown.push(performance.now() - t);
      cleanups.pop();
    }
    rows.push({
      n,
      ours: { build: median(ours.build), teardown: median(ours.teardown) },
      peer: { build: median(peer.build), teardown: median(peer.teardown) },
    });
  }
  out.push('### Lab build and teardown', '');
  out.push(
    `Median of ${SIZE.labReps} builds and teardowns of a lab of N hosts on one network by the netns driver, against the same \`ip\` commands run from a shell script (\`sh -e\`), one after the other.`,
    '',
  );
  out.push(
    '| hosts | build ms | `ip` script ms | against script | teardown ms | `ip netns del` script ms | against script |',
    '|---|---|---|---|---|---|---|',
  );
  for (const r of rows)
    out.push(
      `| ${r.n} | ${fmt(r.ours.build)} | ${fmt(r.peer.build)} | ${ratio(r.ours.build, r.peer.build)} | ${fmt(r.ours.teardown)} | ${fmt(r.peer.teardown)} | ${ratio(r.ours.teardown, r.peer.teardown)} |`,
    );
  out.push('');
  await bigLab(out);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Deleting a namespace returns at once; the kernel frees its devices afterwards, under the same lock a build takes.
const CLEANUP_PAUSE_MS = 2_000;

async function bigLab(out) {
  const n = SIZE.bigLab;
  const rows = [];
  for (let r = 0; r < SIZE.labReps; r++) {
    await sleep(CLEANUP_PAUSE_MS);
    const load = loadavg()[0];
    let t = performance.now();
    const lab = await netnsDriver.build(manyHostsPlan(n), () => undefined);
    const build = performance.now() - t;
    cleanups.push(() => lab.teardown());
    const namespaces = readdirSync('/run/netns').filter((ns) => ns.startsWith(`${lab.id}-`)).length;
    check(namespaces === n + 1, `the ${n}-host lab has ${namespaces} namespaces, not ${n + 1} (its hosts and bridge)`);
    t = performance.now();
    await lab.teardown();
    const teardown = performance.now() - t;
    cleanups.pop();
    check(
      readdirSync('/run/netns').every((ns) => !ns.startsWith(`${lab.id}-`)),
      `the ${n}-host lab left namespaces behind`,
    );
    rows.push({ build, teardown, load });
  }
  out.push(`### A ${n}-host lab`, '');
  out.push(
    `${SIZE.labReps} build${SIZE.labReps === 1 ? '' : 's'} and teardown${SIZE.labReps === 1 ? '' : 's'} of a lab of ${n} hosts on one network by the netns driver (${CLEANUP_PAUSE_MS / 1000} s apart, so that the kernel's deferred freeing of the last lab's devices is not counted in the next build), against the goals for 200 hosts: built in under 2,000 ms, torn down in under 1,000 ms. Hosts configured by: ${hostConfigurator() === 'native' ? 'the native configurator (one thread, rtnetlink and /proc/sys/net inside each namespace)' : 'one `ip -batch` and one `sh` each (the addon is not built)'}.`,
    '',
  );
  out.push('| run | build ms | teardown ms | load average (1 min) before it |', '|---|---|---|---|');
  rows.forEach((r, i) => out.push(`| ${i + 1} | ${fmt(r.build)} | ${fmt(r.teardown)} | ${r.load.toFixed(2)} |`));
  out.push(`| median | ${fmt(median(rows.map((r) => r.build)))} | ${fmt(median(rows.map((r) => r.teardown)))} | |`, '');
}

async function readiness(out) {
  const scenario = defineScenario({
    name: 'bench-ready',
    description: 'one connection: how soon a run is ready after its lab is built',
    params: {},
    build: () => ({
      hosts: { client: {}, server: {} },
      actors: {
        web: { kind: 'http-server', host: 'server', port: PORT },
        flood: { kind: 'short-conn-client', host: 'client', target: 'web', count: 1, rate: '10/s' },
      },
    }),
  });
  const ready = [];
  for (let r = 0; r < SIZE.labReps; r++) {
    const dir = join(mkdtempSync(join(tmpdir(), 'waitlab-bench-ready-')), 'run');
    const { report } = await runScenario(resolvePlan(scenario, 'bench/bench.mjs', {}), { outDir: dir });
    check(report.verdict === 'pass', `readiness run: verdict ${report.verdict}`);
    const lines = readFileSync(join(dir, 'log.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const at = (msg) => lines.find((l) => l.msg === msg)?.time;
    ready.push(at('load starting') - at('lab built'));
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
  const lab = await buildLab('bench-node', { h1: {} });
  const node = [];
  for (let r = 0; r < SIZE.labReps; r++) {
    const t = performance.now();
    inHost(lab, 'h1', process.execPath, ['-e', '0']);
    node.push(performance.now() - t);
  }
  await cleanup();
  out.push('### Agents ready after the lab is built', '');
  out.push(
    `Median of ${SIZE.labReps} runs of a two-host scenario (an http-server and one connection): from the controller's "lab built" to "load starting" in log.ndjson (both agents started, initialised, sampling, the server listening), against \`ip netns exec <host> node -e 0\`, the least any Node process in a lab host takes.`,
    '',
  );
  out.push('| lab built to load starting, ms | `node -e 0` in a lab host, ms | against node |', '|---|---|---|');
  out.push(`| ${fmt(median(ready))} | ${fmt(median(node))} | ${ratio(median(ready), median(node))} |`, '');
}

/** The soak (bench/soak.mjs) as a child: its own run of SOAK_MINUTES, its Markdown as this section. */
function soak(out) {
  const minutes = smoke ? 0.25 : 10;
  const rate = smoke ? 500 : 1700;
  log(`soak: ${minutes} min at ${rate}/s`);
  const r = spawnSync(process.execPath, [join(ROOT, 'bench/soak.mjs')], {
    encoding: 'utf8',
    env: { ...process.env, SOAK_MINUTES: String(minutes), SOAK_RATE: String(rate) },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 2 ** 20,
  });
  check(r.status === 0, `soak exited ${r.status ?? r.signal}`);
  out.push(`### Memory over a ${minutes}-minute flood (bench/soak.mjs, alone: \`npm run soak\`)`, '');
  out.push(
    `A steady short-connection flood through a real lab (client and server namespaces; the client closes first with tcp_tw_reuse=1 and a 50,000-port range, so a steady rate never runs out of ports) for ${minutes} minutes at ${rate} new connections per second, with the controller's and each agent's resident memory and open fds sampled every 5 s (bench/soak.mjs). It fails when either grows by more than 10% from minute 2 (past warm-up) to the last minute. Its output:`,
    '',
  );
  out.push('```', r.stdout.trim(), '```', '');
}

function version(argv, pattern) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return pattern.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

const out = [];
const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(', ');
out.push(
  '## Side by side: `npm run bench`',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: Linux ${release()}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}, ` +
    `ss ${version(['ss', '-V'], /iproute2-(\S+)/)}, nginx ${version(['/usr/sbin/nginx', '-v'], /nginx\/(\S+)/)}, wrk ${version(['wrk', '-v'], /wrk (\S+)/)}, ab ${version(['ab', '-V'], /Version (\S+)/)}, autocannon ${JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')).version}; load average at the start ${load}.`,
  '',
);
try {
  if (runs('census')) await censusAndSampler(out);
  if (runs('flood')) await flood(out);
  if (runs('lab')) await labs(out);
  if (runs('ready')) await readiness(out);
  if (runs('scale')) await scaledLab(out, { smoke, check, log });
  if (runs('soak')) soak(out);
} finally {
  await cleanup();
}
if (failures.length) out.push('Checks that failed:', '', ...failures.map((f) => `- ${f}`), '');
const text = out.join('\n');
process.stdout.write(`${text}\n`);
if (!smoke && !only) {
  const doc = readFileSync(DOC, 'utf8');
  const [head, rest] = doc.includes(START)
    ? [doc.slice(0, doc.indexOf(START)), doc.slice(doc.indexOf(END) + END.length)]
    : [doc, ''];
  writeFileSync(DOC, `${head}${START}\n${text}\n${END}${rest}`);
  log(`wrote ${DOC}`);
}
process.exit(failures.length ? 1 : 0);
