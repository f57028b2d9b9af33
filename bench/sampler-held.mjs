#!/usr/bin/env node
// The sampler at 10 Hz on a host whose sockets stay put: N ESTABLISHED sockets (N / 2 loopback connections held
// open by bench/hold-connections.mjs, both ends in the host), where TIME_WAIT would expire (60 s) before a loaded
// machine had made 100k of them. For each N: the sampler counting in C, then in JavaScript (WAITLAB_CENSUS=netlink-js),
// each beside `ss -tan` at 10 Hz (bench/helpers/sampler-cpu.mjs). Run through `waitlab privileged` as root:
//   node bin/waitlab.js privileged -- node bench/sampler-held.mjs [N ...] [--seconds S]
// Prints JSON lines, one per N and counting, with sockstat inuse before and after. Bounded: holders exit after 180 s.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { defineScenario, resolvePlan } from '../dist/index.js';
import { netnsDriver } from '../dist/lab/netns-driver.js';
import { holdSockets } from './helpers/held-sockets.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const secondsAt = args.indexOf('--seconds');
const seconds = secondsAt >= 0 ? Number(args[secondsAt + 1]) : 10;
const levels = args.filter((_, i) => secondsAt < 0 || (i !== secondsAt && i !== secondsAt + 1)).map(Number);
if (
  !levels.length ||
  levels.some((n) => !Number.isInteger(n) || n < 2 || n > 400_000) ||
  !(seconds > 0 && seconds <= 30)
) {
  throw new Error('usage: sampler-held.mjs N [N ...] [--seconds 1..30] (N from 2 to 400000)');
}

const plan = resolvePlan(
  defineScenario({
    name: 'bench-sampler-held',
    description: 'hosts full of held connections',
    params: {},
    build: () => ({
      hosts: Object.fromEntries(
        levels.map((n) => [`s${n}`, { sysctls: { 'net.ipv4.ip_local_port_range': '1024 65535' } }]),
      ),
      actors: {},
    }),
  }),
  'bench',
  {},
);
const lab = await netnsDriver.build(plan, () => undefined);
try {
  for (const n of levels) {
    const ns = lab.hosts[`s${n}`].location;
    const holders = await holdSockets(ns, n);
    const inuse = () =>
      Number(
        /TCP: inuse (\d+)/.exec(
          execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/sockstat'], { encoding: 'utf8' }),
        )?.[1],
      );
    for (const counting of ['c', 'js']) {
      const before = inuse();
      const load = loadavg()[0].toFixed(2);
      const env = { ...process.env, ...(counting === 'js' ? { WAITLAB_CENSUS: 'netlink-js' } : {}) };
      const r = JSON.parse(
        execFileSync(
          'ip',
          ['netns', 'exec', ns, process.execPath, resolve(ROOT, 'bench/helpers/sampler-cpu.mjs'), String(seconds)],
          { encoding: 'utf8', env },
        ),
      );
      const pct = (x) => Number(((100 * x.cpuSeconds) / x.wallSeconds).toFixed(1));
      process.stdout.write(
        `${JSON.stringify({ sockets: n, inuseBefore: before, inuseAfter: inuse(), loadavg1: Number(load), counting: r.counting, samplerPctCore: pct(r.sampler), ssPctCore: pct(r.ss), samples: r.sampler.samples, withCensus: r.sampler.censuses, skippedTicks: r.sampler.skippedTicks })}\n`,
      );
    }
    holders.stop();
  }
} finally {
  await lab.teardown();
}
