// `waitlab watch --run <dir>`: every host of a live run at once. Each host is read by `waitlab watch --json`
// running inside its namespace (under nsenter), streaming one snapshot per interval; this process only
// gathers and draws them. When the run tears its lab down it ends those readers too, and the view says so.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { UsageError } from '../core/errors.ts';
import { terminalSafe } from '../core/terminal-text.ts';
import { TCP_STATES, type TcpStateName } from '../sampler/tcp-states.ts';
import { HISTORY, type StateHistory } from './host-watcher.ts';
import { MIN_INTERVAL_MS } from './run-watch.ts';
import { renderHost, renderHostSection } from './screen.ts';
import type { Snapshot } from './snapshot.ts';
import { TerminalScreen } from './terminal-screen.ts';
import { commandInTarget, type WatchTarget } from './watch-target.ts';

interface HostView {
  readonly name: string;
  latest?: Snapshot;
  history: Record<TcpStateName, number[]>;
  ended?: string;
}

export interface HostsOptions {
  readonly intervalText: string;
  readonly intervalMs: number;
  readonly once: boolean;
  readonly json: boolean;
}

/** A line of a reader's stdout as a snapshot, or undefined when it is not one. */
function snapshotOf(line: string): Snapshot | undefined {
  try {
    const value = JSON.parse(line) as Snapshot | null;
    return typeof value?.states === 'object' && value.states !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function startReader(
  target: Extract<WatchTarget, { path: string }>,
  o: HostsOptions,
  view: HostView,
  onSnapshot: (line: string) => void,
): ChildProcess {
  const [command, argv] = commandInTarget(target, [
    'watch',
    '--json',
    '--interval',
    o.intervalText,
    ...(o.once ? ['--once'] : []),
  ]);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let notSnapshot: string | undefined;
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-500)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const snapshot = snapshotOf(line);
    if (!snapshot) {
      // A help text or a stray print: that reader is ended, the others go on.
      notSnapshot ??= `printed something other than a snapshot: ${line.slice(0, 80)}`;
      child.kill('SIGTERM');
      return;
    }
    view.latest = snapshot;
    for (const s of TCP_STATES) {
      view.history[s].push(snapshot.states[s]);
      if (view.history[s].length > HISTORY) view.history[s].shift();
    }
    onSnapshot(line);
  });
  child.on('exit', (code, signal) => {
    if (notSnapshot) view.ended = `its reader ${notSnapshot}`;
    else
      view.ended =
        code === 0
          ? 'done'
          : `its reader ended (${signal ?? `exit ${code}`}${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}): the run is over`;
  });
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.on('exit', () => r())));

export async function watchHosts(
  targets: readonly Extract<WatchTarget, { path: string }>[],
  o: HostsOptions,
): Promise<number> {
  const views: HostView[] = targets.map((t) => ({
    name: t.label,
    history: Object.fromEntries(TCP_STATES.map((s) => [s, [] as number[]])) as Record<TcpStateName, number[]>,
  }));
  if (!(o.intervalMs >= MIN_INTERVAL_MS))
    throw new UsageError(`--interval must be at least ${MIN_INTERVAL_MS / 1000} s`);
  if (!o.once && !o.json && !process.stderr.isTTY)
    throw new UsageError('the live view needs a terminal on stderr: use --once, or --json for a stream of snapshots');
  const screen = !o.once && !o.json ? new TerminalScreen(process.stderr, process.stdin) : undefined;
  const draw = () => screen?.draw(renderAll(views, o, screen.width, screen.height));
  const readers = targets.map((t, i) =>
    startReader(t, o, views[i]!, (line) => (o.json && !o.once ? process.stdout.write(`${line}\n`) : draw())),
  );
  const allEnded = Promise.all(readers.map(exited));
  let signal: NodeJS.Signals | undefined;
  let quitByKey = false;
  const quit = (s?: NodeJS.Signals) => {
    signal = s;
    quitByKey = s === undefined;
    for (const r of readers) r.kill('SIGTERM');
  };
  if (screen) screen.open(quit, draw);
  else {
    process.once('SIGINT', () => quit('SIGINT'));
    process.once('SIGTERM', () => quit('SIGTERM'));
  }
  try {
    await allEnded;
  } finally {
    screen?.close();
  }
  if (!o.once && signal === undefined && !quitByKey)
    process.stderr.write('waitlab watch: the run is over (its lab was torn down)\n');
  if (o.once) {
    const hosts = Object.fromEntries(views.filter((v) => v.latest).map((v) => [v.name, v.latest!]));
    if (o.json) process.stdout.write(`${JSON.stringify({ hosts })}\n`);
    else
      for (const v of views)
        if (v.latest)
          process.stderr.write(
            `${renderHost(v.latest, v.history as StateHistory, { width: process.stderr.columns || 100, height: 1000, intervalMs: o.intervalMs }).join('\n')}\n\n`,
          );
    if (views.some((v) => !v.latest)) return 4;
  }
  return signal === 'SIGTERM' ? 143 : 0;
}

function renderAll(views: readonly HostView[], o: HostsOptions, width: number, height: number): string[] {
  const at = views.find((v) => v.latest)?.latest?.at.slice(11, 19) ?? '--:--:--';
  const lines = [
    `waitlab watch · ${views.length} hosts of a live run · ${at} UTC · every ${o.intervalMs / 1000} s · q quits`,
  ];
  const each = Math.max(3, Math.floor((height - 1) / views.length));
  for (const v of views) {
    if (v.latest && !v.ended)
      lines.push(
        ...renderHostSection(v.latest, v.history as StateHistory, { width, height: each, intervalMs: o.intervalMs }),
      );
    else lines.push(terminalSafe(`── host ${v.name}: ${v.ended ?? 'reading...'}`).slice(0, width));
  }
  return lines.slice(0, height);
}
