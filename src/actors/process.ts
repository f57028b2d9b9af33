// The user's own command in a lab host (`node api.js`, a python server, any binary): an argv, never a shell,
// run as an unprivileged user unless root is asked for, ready by a listening port or a line of output, its
// output kept in <actor>.log, stopped with SIGTERM then SIGKILL. Its sockets are counted by pid, so a finding
// can name it as their holder.
import { defineActorKind, type Actor } from './actor.ts';
import { resolveLaunch } from './process-launch.ts';
import { processOptions } from './process-options.ts';
import { ProcessRun, type ProcessExit } from './process-run.ts';
import { socketsHeldBy } from './process-sockets.ts';
import type { StateCounts } from '../sampler/tcp-states.ts';

/** How often its sockets are counted for their peak (each count reads the host's whole TCP table). */
const SOCKET_COUNT_EVERY_MS = 1_000;

export type ProcessStats = {
  /** The command as the scenario gave it: "python3 app.py". */
  command: string;
  /** Its pid on this machine (outside any namespace), null before it started. */
  pid: number | null;
  user: string;
  /** Milliseconds since the run's zero at which it was ready, null when it never was. */
  readyAtMs: number | null;
  /** The TCP sockets it held open in its host, by state: at the last count, and the highest count of each state. */
  sockets: { now: StateCounts; peak: StateCounts };
  log: { file: string; bytes: number; cut: boolean };
  /** Present once it has exited: its code or signal, and whether the run asked it to stop. */
  exit?: ProcessExit;
};

export const processActor = defineActorKind({
  kind: 'process',
  role: 'server',
  describe:
    'your own command (argv, no shell) in a host, e.g. node api.js: ready by port or log line, output in <actor>.log, sockets attributed by pid',
  options: processOptions,
  composeRefusal:
    "runs a command from this machine; the compose driver would need its working directory and executable mounted read-only into the host's container (and the executable's libraries in the image), which it does not do yet: use --driver netns",
  link(o, ctx, where, problems) {
    ctx.needTool('setpriv');
    const launch = resolveLaunch(o, ctx, where, problems);
    return launch && { launch };
  },
  // The user's code decides how it closes and whether it keeps connections alive: the model claims nothing of it,
  // and what it held is read from its own sockets (stats.sockets), not predicted.
  connections: () => ({ dials: [] }),
  settledByStop: ['exit'],
  readyWithinMs: (o) => o.readyTimeout,
  closeWithinMs: (o) => o.stopGrace,
  create(plan, ctx): Actor<ProcessStats> {
    const o = plan.options;
    const run = new ProcessRun(plan.name, o.command.join(' '), plan.launch, o.maxLogBytes, ctx);
    let now: StateCounts = {};
    const peak: StateCounts = {};
    const count = () => {
      if (run.pid === null || run.exit) return;
      now = socketsHeldBy(run.pid);
      for (const [state, k] of Object.entries(now) as [keyof StateCounts, number][])
        peak[state] = Math.max(peak[state] ?? 0, k);
    };
    let counter: NodeJS.Timeout | undefined;
    let ended: Promise<void> = Promise.resolve();
    return {
      get done() {
        return ended;
      },
      async start() {
        const started = run.start(o.readyTimeout);
        ended = run.child!.exited.then(() => clearInterval(counter));
        await started;
        counter = setInterval(count, SOCKET_COUNT_EVERY_MS);
        counter.unref();
      },
      async close() {
        clearInterval(counter);
        await run.stop(o.stopGrace);
      },
      destroy() {
        clearInterval(counter);
        run.kill();
      },
      stats(): ProcessStats {
        count();
        return {
          command: run.command,
          pid: run.pid,
          user: run.user,
          readyAtMs: run.readyAtMs,
          sockets: { now, peak: { ...peak } },
          log: { file: `${plan.name}.log`, bytes: run.logBytes, cut: run.logCut },
          ...(run.exit ? { exit: run.exit } : {}),
        };
      },
    };
  },
});
