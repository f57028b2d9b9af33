// A worker thread of a flood with workers (or of the native engine): runs one loop on its share of the load and reports to the main thread,
// every STATS_EVERY_MS and once more when its load is done, its stats and its latency histogram.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { hdrModule } from './hdr-module.ts';
import { FirstErrorMark } from './first-error-mark.ts';
import { floodLoop } from './short-conn-loop.ts';
import { nativeFloodLoop } from './short-conn-native.ts';
import type { WorkerInput, WorkerMessage } from './short-conn-workers.ts';

const STATS_EVERY_MS = 200;
const input = workerData as WorkerInput;
const port = parentPort!;
// The run's clock of the agent: epoch ms less the same zero.
const now = () => performance.timeOrigin + performance.now() - input.zeroEpochMs;
const ctx = {
  plan: input.plan,
  now,
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) =>
    port.postMessage({ type: 'log', level, msg, data } satisfies WorkerMessage),
};
const share = { phaseMs: input.phaseMs, firstError: new FirstErrorMark(input.shared) };
const loop =
  input.plan.options.engine === 'native' ? nativeFloodLoop(input.plan, ctx, share) : floodLoop(input.plan, ctx, share);
const report = (type: 'stats' | 'done') =>
  port.postMessage({
    type,
    stats: loop.stats(),
    latency: hdrModule().encodeIntoCompressedBase64(loop.latency),
  } satisfies WorkerMessage);

port.on('message', (cmd: 'close' | 'destroy') => {
  if (cmd === 'destroy') loop.destroy();
  else void loop.close();
});
const timer = setInterval(() => report('stats'), STATS_EVERY_MS);
await loop.start();
await loop.done;
clearInterval(timer);
report('done');
port.close();
