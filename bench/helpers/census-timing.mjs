// Inside a lab host: one census after another through netlink counted in C (native/census.c), through netlink
// counted in JavaScript, and through /proc/net/tcp (what the agent's sampler does each tick), interleaved with `ss -tan` and `ss -s` run as whole processes, REPS rounds; prints JSON with the
// wall time (ms) of each, and the counts each saw, so the bench can check they counted the same sockets.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { FallbackRows } from '../../dist/sampler/census-source.js';
import { TcpCensusTaker } from '../../dist/sampler/proc-net-tcp.js';
import { NativeCensus } from '../../dist/sampler/native-census.js';

const reps = Number(process.argv[2] ?? 10);
const netlink = await FallbackRows.open();
process.env.WAITLAB_CENSUS = 'proc';
const proc = await FallbackRows.open();
const native = NativeCensus.open();
const takers = {
  'netlink, C': [{ name: 'netlink' }, { takeFrom: () => native.take() }],
  netlink: [netlink, new TcpCensusTaker()],
  proc: [proc, new TcpCensusTaker()],
};

const times = { 'netlink, C': [], netlink: [], proc: [], 'ss -tan': [], 'ss -s': [] };
const counts = {};
const timed = async (name, f) => {
  const t0 = performance.now();
  const out = await f();
  times[name].push(performance.now() - t0);
  return out;
};
for (let r = 0; r < reps; r++) {
  for (const [name, [rows, taker]] of Object.entries(takers)) {
    const census = await timed(name, () => taker.takeFrom(rows));
    counts[name] = {
      source: rows.name,
      sockets: census.sockets,
      timeWait: census.total.TIME_WAIT ?? 0,
      established: census.total.ESTABLISHED ?? 0,
      // Every socket but the listeners: a held connection can wait in SYN_RECV (the accept queue full) on its server side.
      connections: census.sockets - (census.total.LISTEN ?? 0),
    };
  }
  await timed('ss -tan', () => spawnSync('ss', ['-tan'], { stdio: ['ignore', 'ignore', 'inherit'] }));
  const ss = await timed('ss -s', () => spawnSync('ss', ['-s'], { encoding: 'utf8' }));
  counts['ss -s'] = {
    timeWait: Number(/timewait (\d+)/.exec(ss.stdout)?.[1] ?? NaN),
    established: Number(/estab (\d+)/.exec(ss.stdout)?.[1] ?? NaN),
  };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(
  `${JSON.stringify({ medianMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])), counts })}\n`,
);
