// One run of a user's command, from launch to exit: readiness (a listening port or a line of output, within a
// timeout), its output capped on its way to <actor>.log, the tail of its stderr for error messages, a graceful
// stop (SIGTERM, then SIGKILL after a grace period) and an exit nobody asked for reported as the run's failure.
import { ActorFailedError } from '../core/errors.ts';
import { formatDuration } from '../core/units.ts';
import { inUserNamespace } from '../core/user-namespace.ts';
import type { ActorContext } from './actor.ts';
import { GuardedChild } from './guarded-child.ts';
import { listeningOn } from './listening.ts';
import type { ProcessLaunch } from './process-launch.ts';
import type { ReadyTest } from './process-options.ts';

const STDERR_TAIL_LINES = 20;
const READY_POLL_MS = 50;
const OUTPUT_END_WAIT_MS = 1_000;

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly atMs: number;
  /** Whether it exited after waitlab asked it to stop (SIGTERM); false: it ended by itself. */
  readonly asked: boolean;
}

function readyText(ready: ReadyTest, host: string): string {
  if ('port' in ready) return `no socket listening on port ${ready.port} in host ${host}`;
  return 'text' in ready.log
    ? `no line of its output contained ${JSON.stringify(ready.log.text)}`
    : `no line of its output matched /${ready.log.regex}/${ready.log.flags}`;
}

function lineMatcher(ready: ReadyTest): ((line: string) => boolean) | undefined {
  if ('port' in ready) return undefined;
  if ('text' in ready.log) {
    const text = ready.log.text;
    return (line) => line.includes(text);
  }
  const regex = new RegExp(ready.log.regex, ready.log.flags);
  return (line) => regex.test(line);
}

export class ProcessRun {
  child: GuardedChild | undefined;
  pid: number | null = null;
  readyAtMs: number | null = null;
  exit: ProcessExit | undefined;
  logBytes = 0;
  logCut = false;
  readonly user: string;
  private stopping = false;
  private sawReadyLine = false;
  private readonly stderrLines: string[] = [];
  private readonly matchesReady: ((line: string) => boolean) | undefined;

  constructor(
    private readonly name: string,
    /** The command as the scenario gave it, for messages: "python3 app.py". */
    readonly command: string,
    private readonly launch: ProcessLaunch,
    private readonly maxLogBytes: number,
    private readonly ctx: ActorContext,
  ) {
    this.matchesReady = lineMatcher(launch.ready);
    // In a user namespace (a rootless run) only uid 0 is mapped: it runs as the invoking user, uid 0 there.
    this.user = inUserNamespace()
      ? 'the invoking user (rootless run)'
      : `${launch.user.name} (uid ${launch.user.uid}, gid ${launch.user.gid})`;
  }

  private describe(): string {
    return `process ${this.name} (\`${this.command}\`${this.pid === null ? '' : `, pid ${this.pid}`})`;
  }

  private stderrTail(): string {
    return this.stderrLines.length
      ? `; the last lines of its stderr:\n${this.stderrLines.map((l) => `    ${l}`).join('\n')}`
      : '; it wrote nothing to stderr';
  }

  private exitText(exit: { code: number | null; signal: string | null }): string {
    return exit.code !== null ? `exited with code ${exit.code}` : `was killed by ${exit.signal ?? 'a signal'}`;
  }

  private onLine(line: string, stream: 'stdout' | 'stderr'): void {
    if (stream === 'stderr') {
      this.stderrLines.push(line.slice(0, 500));
      if (this.stderrLines.length > STDERR_TAIL_LINES) this.stderrLines.shift();
    }
    if (this.matchesReady?.(line)) this.sawReadyLine = true;
    if (this.logCut) return;
    const bytes = Buffer.byteLength(line) + 1;
    if (this.logBytes + bytes > this.maxLogBytes) {
      this.logCut = true;
      this.ctx.output?.(`[waitlab: output cut here, after ${this.logBytes} bytes (maxLogBytes ${this.maxLogBytes})]`);
      return;
    }
    this.logBytes += bytes;
    this.ctx.output?.(line);
  }

  /** Launches the command and resolves once it is ready; throws ActorFailedError (exit 3) when it is not in time. */
  async start(readyTimeoutMs: number): Promise<void> {
    const { launch } = this;
    const child = (this.child = new GuardedChild(launch.argv, {
      cwd: launch.cwd,
      env: launch.env,
      command: { credentials: inUserNamespace() ? undefined : { uid: launch.user.uid, gid: launch.user.gid } },
      onStdoutLine: (l) => this.onLine(l, 'stdout'),
      onStderrLine: (l) => this.onLine(l, 'stderr'),
    }));
    this.pid = child.pid ?? null;
    void child.exited.then((status) => {
      this.exit = { code: status.code, signal: status.signal, atMs: Math.round(this.ctx.now()), asked: this.stopping };
      this.ctx.log(this.stopping ? 'info' : 'error', `${this.describe()} ${this.exitText(status)}`, { ...this.exit });
      if (!this.stopping && this.readyAtMs !== null) {
        this.ctx.fail?.(
          new ActorFailedError(
            this.name,
            `${this.describe()} ${this.exitText(status)} at ${formatDuration(this.exit.atMs)}, before the run asked it to stop${this.stderrTail()}`,
          ),
        );
      }
    });
    const startedMs = this.ctx.now();
    for (;;) {
      // Its stderr comes through a pipe: what it wrote before it exited may arrive after the exit. A process it
      // forked may hold the pipe open, so the wait is bounded.
      if (child.exitStatus) {
        await Promise.race([child.outputEnded, new Promise((r) => setTimeout(r, OUTPUT_END_WAIT_MS))]);
        throw new ActorFailedError(
          this.name,
          `${this.describe()} ${this.exitText(child.exitStatus)} before it was ready (${readyText(launch.ready, this.ctx.plan.host)})${this.stderrTail()}`,
        );
      }
      if ('port' in launch.ready ? listeningOn(launch.ready.port) : this.sawReadyLine) break;
      if (this.ctx.now() - startedMs >= readyTimeoutMs) {
        this.stopping = true;
        child.kill();
        await child.exited;
        throw new ActorFailedError(
          this.name,
          `${this.describe()} did not become ready within ${formatDuration(readyTimeoutMs)}: ${readyText(launch.ready, this.ctx.plan.host)}${this.stderrTail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
    this.readyAtMs = Math.round(this.ctx.now());
    this.ctx.log('info', `${this.describe()} ready`, { atMs: this.readyAtMs, user: this.user });
  }

  /** SIGTERM to its process group, SIGKILL after graceMs; resolves once it has exited. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    await this.child?.stop('SIGTERM', graceMs);
  }

  kill(): void {
    this.stopping = true;
    this.child?.kill();
  }
}
