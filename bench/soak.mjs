#!/usr/bin/env node
// The soak run (`npm run soak`, outside `npm test`): a steady short-connection flood through a real lab for
// SOAK_MINUTES (10 by default) at SOAK_RATE new connections per second (1,700: a million in 10 minutes), with
// the controller's and each agent's resident memory and open fds sampled every 5 s. It fails when either grows
// from minute 2 (past warm-up) to the last minute by more than SOAK_GROWTH (10%), and prints the figures, with the
// bytes of samples.ndjson written per minute, as a Markdown table for docs/benchmarks.md. Run it through
// `waitlab privileged` (npm run soak does), as root or a user.
// The client closes first with tcp_tw_reuse=1 and a wide port range, so a steady rate never runs out of ports.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineScenario, f, resolvePlan, runScenario } from '../dist/index.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const rate = Number(process.env.SOAK_RATE ?? 1700);
const maxGrowth = Number(process.env.SOAK_GROWTH ?? 0.1);
const EVERY_MS = 5_000;

const soak = defineScenario({
  name: 'soak',
  description: 'a steady short-connection flood for the soak run',
  params: { rate: f.rate({ default: rate }), duration: f.duration({ default: minutes * 60_000 }) },
  build: (p) => ({
    hosts: {
      client: { sysctls: { 'net.ipv4.ip_local_port_range': '15000 64999', 'net.ipv4.tcp_tw_reuse': 1 } },
      server: {},
    },
    actors: {
      web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: false, closer: 'client' },
      flood: {
        kind: 'short-conn-client',
        host: 'client',
        target: 'web',
        rate: p.rate,
        duration: p.duration,
        maxInFlight: 2000,
      },
    },
    thresholds: [
      'actors.flood.errorCount == 0',
      `actors.flood.missedStarts <= ${Math.ceil(p.rate * (p.duration / 1000) * 0.01)}`,
    ],
  }),
});

function procStatus(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    return { rssMb: rssKb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

/** This controller's agents: processes running dist/agent/main.js in a namespace of a lab named after our pid. */
function agents() {
  const mark = `\0wl${process.pid}n`;
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes('dist/agent/main.js') && cmd.includes(mark))
        out.push({ pid: Number(e), host: cmd.split('\0').at(-2)?.split('-').at(-1) ?? '?' });
    } catch {
      // gone
    }
  }
  return out;
}

const series = { controller: [] };
const sample = () => {
  const t = Math.round(performance.now() / 1000);
  series.controller.push({ t, rssMb: process.memoryUsage().rss / 2 ** 20, fds: readdirSync('/proc/self/fd').length });
  for (const a of agents()) {
    const s = procStatus(a.pid);
    if (s) (series[`agent ${a.host}`] ??= []).push({ t, ...s });
  }
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

const plan = resolvePlan(soak, 'bench/soak.mjs', {});
const dir = join(mkdtempSync(join(tmpdir(), 'waitlab-soak-')), 'run');
process.stderr.write(
  `soak: ${minutes} min at ${rate}/s (${(rate * minutes * 60).toLocaleString('en-US')} connections), report in ${dir}\n`,
);
const timer = setInterval(sample, EVERY_MS);
const { report } = await runScenario(plan, { outDir: dir });
clearInterval(timer);

const flood = report.actors.flood;
const rows = [];
let failed = report.verdict !== 'pass';
// Minute 2 against the last minute: the medians of the samples taken in each.
const inMinute = (points, m) => points.filter((p) => p.t - points[0].t >= (m - 1) * 60 && p.t - points[0].t < m * 60);
for (const [who, points] of Object.entries(series)) {
  const warm = inMinute(points, 2);
  const late = inMinute(points, minutes);
  if (minutes < 3 || warm.length === 0 || late.length === 0) continue;
  for (const key of ['rssMb', 'fds']) {
    const w = median(warm.map((p) => p[key]));
    const l = median(late.map((p) => p[key]));
    const growth = (l - w) / w;
    // fds of an agent follow the connections in flight; memory must not grow with the run's length.
    const bad = key === 'rssMb' ? growth > maxGrowth : growth > maxGrowth && l - w > 50;
    if (bad) failed = true;
    rows.push(
      `| ${who} | ${key === 'rssMb' ? 'RSS MiB' : 'open fds'} | ${points[0][key].toFixed(key === 'rssMb' ? 1 : 0)} | ${w.toFixed(key === 'rssMb' ? 1 : 0)} | ${l.toFixed(key === 'rssMb' ? 1 : 0)} | ${(growth * 100).toFixed(1)}% | ${bad ? 'GROWS' : 'flat'} |`,
    );
  }
}
const samplesBytes = statSync(join(dir, 'samples.ndjson')).size;
const loadMinutes = flood.durationMs / 60_000;
const out = [
  `Soak: ${minutes} min, target ${rate}/s, kernel ${report.environment.kernel}, node ${report.environment.node}, ${report.environment.privilege}.`,
  `Connections made ${flood.connected.toLocaleString('en-US')}, attempts ${flood.attempts.toLocaleString('en-US')}, errors ${flood.errorCount}, missed starts ${flood.missedStarts}, achieved ${flood.achievedRate.toFixed(1)}/s; verdict ${report.verdict}.`,
  `Peak TIME_WAIT on the client ${report.hosts.client.peak.total.TIME_WAIT.toLocaleString('en-US')} (sockstat tw ${report.hosts.client.peak.sockstatTw.toLocaleString('en-US')}), TcpExt.TWRecycled +${(report.hosts.client.counters.delta['TcpExt.TWRecycled'] ?? 0).toLocaleString('en-US')}; samples ${report.hosts.client.samples}, skipped ticks ${report.hosts.client.skippedTicks}, census ${report.hosts.client.census?.source ?? 'unknown'}.`,
  `samples.ndjson: ${samplesBytes.toLocaleString('en-US')} bytes for both hosts, ${Math.round(samplesBytes / loadMinutes).toLocaleString('en-US')} bytes per minute of load.`,
  '',
  `| process | measure | first sample | median, minute 2 | median, minute ${minutes} | growth | |`,
  '|---|---|---|---|---|---|---|',
  ...rows,
];
process.stdout.write(`${out.join('\n')}\n`);
process.exit(failed ? 1 : 0);
