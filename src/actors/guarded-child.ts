// An engine binary (nginx, haproxy) as a child of the agent that cannot outlive it, in any case:
//   setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child=SIGKILL -- <engine> ...
// setpriv makes the kernel SIGKILL unshare when the agent dies (even by SIGKILL: PR_SET_PDEATHSIG), and
// unshare --kill-child does the same for the engine it forks, which is pid 1 of a new pid namespace. When a
// pid namespace's init dies the kernel kills every process in it, so nginx's workers (which would keep
// serving after a SIGKILLed master) and anything they fork die too. Both tools are util-linux, which the lab
// already needs for `unshare`.
// A user's own command (the process actor) runs without the pid namespace, as another user:
//   setpriv --pdeathsig KILL --reuid U --regid G --clear-groups -- <command> ...
// The pid namespace is left out because its init ignores every signal it has no handler for (pid_namespaces(7)):
// a server without a SIGTERM handler would shrug off the graceful stop. setpriv sets the parent-death signal
// after its setresuid() (a change of credentials clears it), so the command still dies with the agent; it leads
// its own process group, so a stop reaches what it forks, and the lab's teardown kills whatever is left in the
// host's namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { lineSplitter } from '../core/lines.ts';

const TAIL_LIMIT = 4000;

/**
 * An agent that is pid 1 (a container's agent) already has the guard: when a pid namespace's init dies the kernel
 * kills everything in it. unshare --pid would fail there anyway (EPERM: a container has no CAP_SYS_ADMIN).
 */
const AGENT_IS_PID_ONE = process.pid === 1;
const WRAPPER = AGENT_IS_PID_ONE
  ? ['--pdeathsig', 'KILL', '--']
  : ['--pdeathsig', 'KILL', '--', 'unshare', '--pid', '--fork', '--kill-child=SIGKILL', '--'];

export interface GuardedChildOptions {
  cwd: string;
  /** The whole environment of the command (default: the agent's own). */
  env?: NodeJS.ProcessEnv;
  /** A user's command (see above): no pid namespace, its own process group, as another user when credentials are given. Absent: an engine. */
  command?: { readonly credentials?: { readonly uid: number; readonly gid: number } };
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
}

export class GuardedChild {
  private readonly child: ChildProcess;
  private stderrText = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its stdout and stderr have ended: every line it wrote has been handed over (or it failed to start). */
  readonly outputEnded: Promise<void>;
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  /** No unshare between setpriv and the command: setpriv execs the command itself, which leads its own process group. */
  private readonly direct: boolean;
  private readonly detached: boolean;

  constructor(argv: readonly string[], options: GuardedChildOptions) {
    const credentials = options.command?.credentials;
    this.detached = options.command !== undefined;
    this.direct = AGENT_IS_PID_ONE || this.detached;
    const wrapper = this.detached
      ? [
          '--pdeathsig',
          'KILL',
          ...(credentials
            ? ['--reuid', String(credentials.uid), '--regid', String(credentials.gid), '--clear-groups']
            : []),
          '--',
        ]
      : WRAPPER;
    this.child = spawn('setpriv', [...wrapper, ...argv], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // setsid(): the command's own process group, signalled as a whole.
      detached: this.detached,
    });
    readLines(this.child.stdout!, (l) => options.onStdoutLine?.(l));
    readLines(this.child.stderr!, (l) => {
      this.stderrText = `${this.stderrText}${l}\n`.slice(-TAIL_LIMIT);
      options.onStderrLine?.(l);
    });
    this.outputEnded = new Promise((resolve) => {
      this.child.on('close', () => resolve());
      this.child.on('error', () => resolve());
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.stderrText += `${err.message}\n`;
        this.exitStatus = { code: null, signal: null };
        resolve(this.exitStatus);
      });
      this.child.on('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
  }

  get stderrTail(): string {
    return this.stderrText.trim();
  }

  /** The wrapper's pid (unshare, after setpriv's exec). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The engine's own pid outside its pid namespace: the one child of unshare. */
  enginePid(): number | undefined {
    const parent = this.child.pid;
    if (parent === undefined) return undefined;
    // setpriv execs the engine itself when there is no unshare in between.
    if (this.direct) return this.exitStatus === undefined ? parent : undefined;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === parent) return Number(entry);
      } catch {
        // exited while we looked
      }
    }
    return undefined;
  }

  /** Signals the engine (graceful stops: nginx SIGQUIT, HAProxy SIGUSR1); false when it is not there. */
  signalEngine(signal: NodeJS.Signals): boolean {
    const pid = this.enginePid();
    if (pid === undefined) return false;
    try {
      process.kill(this.detached ? -pid : pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGKILL to the wrapper: the kernel then kills the engine (pdeathsig) and its whole pid namespace. */
  kill(): void {
    if (this.exitStatus !== undefined) return;
    if (this.detached && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
        return;
      } catch {
        // the group is gone already: the child alone is left to kill
      }
    }
    this.child.kill('SIGKILL');
  }

  /** Graceful signal, then SIGKILL after `graceMs`; resolves once the wrapper is gone. */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (this.exitStatus !== undefined) return;
    if (!this.signalEngine(signal)) this.kill();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.kill();
    await this.exited;
  }
}

/** Every non-empty line of a stream, the last one too when it lacks its newline. */
function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  const split = lineSplitter((line) => line.trim() && onLine(line));
  stream.on('data', split);
  stream.on('end', () => split.flush());
}
