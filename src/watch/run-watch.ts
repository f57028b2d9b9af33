// `waitlab watch` in the namespace this process runs in: a live screen, one snapshot (--once), or a stream
// of snapshots as NDJSON (--json). Reads only.
import { UsageError } from '../core/errors.ts';
import { HostWatcher } from './host-watcher.ts';
import { renderHost } from './screen.ts';
import { TerminalScreen } from './terminal-screen.ts';

export interface WatchOptions {
  readonly host: string;
  readonly intervalMs: number;
  readonly once: boolean;
  readonly json: boolean;
}

/** The shortest interval: a reading of 100k sockets took about 0.25 s of system time here (docs/benchmarks.md). */
export const MIN_INTERVAL_MS = 200;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves with the exit code: 0 on q / Ctrl-C / SIGINT, 143 on SIGTERM. */
export async function runWatch(o: WatchOptions): Promise<number> {
  if (!(o.intervalMs >= MIN_INTERVAL_MS))
    throw new UsageError(`--interval must be at least ${MIN_INTERVAL_MS / 1000} s`);
  const watcher = new HostWatcher(o.host);
  if (o.once) {
    // Two readings an interval apart: rates and growth need a difference.
    await watcher.next();
    await sleep(o.intervalMs);
    const { snapshot, history } = await watcher.next();
    if (o.json) process.stdout.write(`${JSON.stringify(snapshot)}\n`);
    else
      process.stderr.write(
        `${renderHost(snapshot, history, { width: process.stderr.columns || 100, height: 1000, intervalMs: o.intervalMs }).join('\n')}\n`,
      );
    return 0;
  }
  if (!o.json && !process.stderr.isTTY)
    throw new UsageError('the live view needs a terminal on stderr: use --once, or --json for a stream of snapshots');
  return o.json ? stream(watcher, o) : live(watcher, o);
}

function stopper(): {
  stopped: Promise<NodeJS.Signals | undefined>;
  stop: (signal?: NodeJS.Signals) => void;
  isStopped: () => boolean;
} {
  let stop!: (signal?: NodeJS.Signals) => void;
  let done = false;
  const stopped = new Promise<NodeJS.Signals | undefined>(
    (r) =>
      (stop = (s) => {
        done = true;
        r(s);
      }),
  );
  return { stopped, stop, isStopped: () => done };
}

const exitFor = (signal: NodeJS.Signals | undefined) => (signal === 'SIGTERM' ? 143 : 0);

async function stream(watcher: HostWatcher, o: WatchOptions): Promise<number> {
  const s = stopper();
  process.once('SIGINT', () => s.stop('SIGINT'));
  process.once('SIGTERM', () => s.stop('SIGTERM'));
  while (!s.isStopped()) {
    const { snapshot } = await watcher.next();
    process.stdout.write(`${JSON.stringify(snapshot)}\n`);
    await Promise.race([sleep(o.intervalMs), s.stopped]);
  }
  return exitFor(await s.stopped);
}

async function live(watcher: HostWatcher, o: WatchOptions): Promise<number> {
  const screen = new TerminalScreen(process.stderr, process.stdin);
  const s = stopper();
  let last: Awaited<ReturnType<HostWatcher['next']>> | undefined;
  const draw = () =>
    last &&
    screen.draw(
      renderHost(last.snapshot, last.history, { width: screen.width, height: screen.height, intervalMs: o.intervalMs }),
    );
  screen.open(s.stop, draw);
  try {
    while (!s.isStopped()) {
      last = await watcher.next();
      if (s.isStopped()) break;
      draw();
      await Promise.race([sleep(o.intervalMs), s.stopped]);
    }
  } finally {
    screen.close();
  }
  return exitFor(await s.stopped);
}
