// Inside a lab host: the agent's sampler at 10 Hz for SECONDS (its CPU time, samples, censuses, skipped ticks),
// then, side by side, `ss -tan` run at 10 Hz for as long (the CPU time of those processes, from this process's
// reaped children in /proc/self/stat). Prints JSON.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SocketSampler } from '../../dist/sampler/socket-sampler.js';

const seconds = Number(process.argv[2] ?? 10);
const INTERVAL = 100;

const samples = [];
const sampler = new SocketSampler(
  INTERVAL,
  () => performance.now(),
  (s) => samples.push({ census: s.census, skipped: s.skipped, tw: s.sockstat.tw }),
);
const source = await sampler.censusSource();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
sampler.start();
await new Promise((r) => setTimeout(r, seconds * 1000));
await sampler.stop();
const cpu = process.cpuUsage(cpu0);
const wall = (performance.now() - t0) / 1000;
const censuses = samples.filter((s) => s.census);

/** CPU seconds of this process's waited-for children (cutime + cstime, fields 16 and 17 of /proc/self/stat). */
const childrenCpu = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
};
const c0 = childrenCpu();
const s0 = performance.now();
let runs = 0;
while (performance.now() - s0 < seconds * 1000) {
  const next = s0 + (runs + 1) * INTERVAL;
  spawnSync('ss', ['-tan'], { stdio: ['ignore', 'ignore', 'inherit'] });
  runs++;
  const wait = next - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
const ssWall = (performance.now() - s0) / 1000;
process.stdout.write(
  `${JSON.stringify({
    source,
    counting: sampler.censusCounting,
    sampler: {
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      wallSeconds: wall,
      samples: samples.length,
      censuses: censuses.length,
      skippedTicks: samples.reduce((a, s) => a + s.skipped, 0),
      withoutCensus: samples.length - censuses.length,
      tw: Math.max(...samples.map((s) => s.tw)),
    },
    ss: { cpuSeconds: childrenCpu() - c0, wallSeconds: ssWall, runs },
  })}\n`,
);
