#!/usr/bin/env node
// A lab of many client hosts (`--scale client=N` of a short-conn-shaped scenario) on its native engine, where one
// agent process serves many hosts (lab/agent-group.ts): how long the lab takes to build, its agents to be ready,
// and it to be torn down, the resident memory of all of waitlab's processes, and the load average; beside the
// same lab of 16 replicas with one agent per host (WAITLAB_AGENT_GROUPS=off), the most replicas that allows.
// Each replica must show one client's exhaustion figures: its port budget of connections, then EADDRNOTAVAIL.
// Alone: `SCALED_REPLICAS=N [SCALED_AGENTS=own] node bin/waitlab.js privileged -- node bench/scaled-lab.mjs` prints one
// run's figures as JSON.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadPlan, runScenario } from '../dist/index.js';
import { netnsDriver } from '../dist/lab/netns-driver.js';

const PORTS = 20;
const COUNT = 30;
const PAGE = 4096;

const MANY_CLIENTS = join(fileURLToPath(new URL('..', import.meta.url)), 'examples/many-clients/scenario.ts');

/** Resident bytes of this controller and of every agent process of its labs (their cmdline names the lab). */
function waitlabRss() {
  const lab = new RegExp(`\\0wl${process.pid}n\\d+-`);
  let pages = Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('dist/agent/main.js') && lab.test(cmdline))
        pages += Number(readFileSync(`/proc/${entry}/statm`, 'utf8').split(' ')[1]);
    } catch {
      // exited while we looked
    }
  }
  return pages * PAGE;
}

/** One run of N replicas: the figures, and each replica's exhaustion problems (empty when all are one client's). */
export async function scaledRun(replicas, grouped) {
  process.env.WAITLAB_AGENT_GROUPS = grouped ? 'on' : 'off';
  const build = netnsDriver.build;
  const timing = {};
  netnsDriver.build = async (...args) => {
    const t = performance.now();
    const lab = await build(...args);
    timing.built = performance.now() - t;
    const teardown = lab.teardown;
    lab.teardown = async () => {
      const t2 = performance.now();
      await teardown();
      timing.down ??= performance.now() - t2;
    };
    return lab;
  };
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, waitlabRss())), 100);
  const loadBefore = loadavg()[0];
  // Kept where the run fails, for its log.ndjson and samples.ndjson.
  const dir = join(mkdtempSync(join(tmpdir(), 'waitlab-bench-scaled-')), 'run');
  try {
    const plan = await loadPlan(MANY_CLIENTS, {
      replicas: String(replicas),
      ports: String(PORTS),
      count: String(COUNT),
    });
    const { report } = await runScenario(plan, { outDir: dir });
    const lines = readFileSync(join(dir, 'log.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const at = (msg) => lines.find((l) => l.msg === msg)?.time;
    const problems = [];
    for (const [name, actor] of Object.entries(report.actors)) {
      if (!name.startsWith('flood')) continue;
      const h = report.hosts[actor.host];
      const figures = [
        actor.ok,
        actor.errors?.EADDRNOTAVAIL?.count,
        h.final.TIME_WAIT,
        h.counters.delta['Tcp.ActiveOpens'],
      ];
      if (figures.join() !== [PORTS, COUNT - PORTS, PORTS, PORTS].join())
        problems.push(`${name}: ok, EADDRNOTAVAIL, TIME_WAIT, ActiveOpens ${figures.join(', ')}`);
    }
    rmSync(join(dir, '..'), { recursive: true, force: true });
    return {
      replicas,
      grouped,
      verdict: report.verdict,
      built: timing.built,
      ready: at('load starting') - at('lab built'),
      down: timing.down,
      rssBytes: rss,
      load: [loadBefore, loadavg()[0]],
      problems,
    };
  } finally {
    clearInterval(sampler);
    netnsDriver.build = build;
    delete process.env.WAITLAB_AGENT_GROUPS;
  }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mb = (bytes) => fmt(bytes / 2 ** 20);
const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}x` : '-');

/** The section's Markdown; `check(ok, what)` collects what failed. */
export async function scaledLab(out, { smoke, check, log }) {
  const many = smoke ? 6 : 200;
  const few = smoke ? 4 : 16;
  log(`scaled lab: ${few} replicas with and without agent groups, then ${many} grouped`);
  const peer = await scaledRun(few, false);
  const ours = await scaledRun(few, true);
  const big = await scaledRun(many, true);
  for (const r of [peer, ours, big])
    check(
      r.problems.length === 0,
      `scaled lab of ${r.replicas} (${r.grouped ? 'grouped' : 'own agents'}): ${r.problems.slice(0, 3).join('; ')}`,
    );
  out.push('### A lab of many client hosts', '');
  out.push(
    `N client replicas (\`replicas\`, as \`--scale client=N\` makes them) of a short-conn-shaped scenario (examples/many-clients/scenario.ts, run by bench/scaled-lab.mjs): one http-server, N client hosts each flooding it on the native engine (closed model, one at a time, ${COUNT} connections against a ${PORTS}-port ip_local_port_range). Every replica must show one client's figures: ${PORTS} connections, ${COUNT - PORTS} EADDRNOTAVAIL, ${PORTS} in TIME_WAIT, Tcp.ActiveOpens +${PORTS} (checked for each). Built: the driver's build; ready: "lab built" to "load starting" in log.ndjson; torn down: the driver's teardown; memory: the most resident memory of the controller and all agent processes at once (sampled every 100 ms); load: the 1-minute load average before and after the run. Grouped: the hosts shared evenly between one agent process per core, at least 25 hosts each (on 2 cores: one agent of 16 hosts, two of 100); own agents: WAITLAB_AGENT_GROUPS=off, one Node agent per host (past ${few} replicas plan validation refuses it).`,
    '',
  );
  out.push(
    '| replicas | agents | built ms | ready ms | torn down ms | memory MB | load before, after |',
    '|---|---|---|---|---|---|---|',
  );
  for (const r of [peer, ours, big])
    out.push(
      `| ${r.replicas} | ${r.grouped ? 'grouped' : 'own'} | ${fmt(r.built)} | ${fmt(r.ready)} | ${fmt(r.down)} | ${mb(r.rssBytes)} | ${r.load.map((l) => l.toFixed(2)).join(', ')} |`,
    );
  out.push('');
  out.push(
    `At ${few} replicas, grouped against own agents: ready ${ratio(ours.ready, peer.ready)}, memory ${ratio(ours.rssBytes, peer.rssBytes)}, torn down ${ratio(ours.down, peer.down)}.`,
    '',
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await scaledRun(Number(process.env.SCALED_REPLICAS ?? 200), process.env.SCALED_AGENTS !== 'own');
  process.stdout.write(
    `${JSON.stringify({ ...r, problems: r.problems.slice(0, 5), problemCount: r.problems.length })}\n`,
  );
}
