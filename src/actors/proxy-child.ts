// An engine binary (nginx, haproxy) as a child of the agent that cannot outlive it, in any case:
//   setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child=SIGKILL -- <engine> ...
// setpriv makes the kernel SIGKILL unshare when the agent dies (even by SIGKILL: PR_SET_PDEATHSIG), and
// unshare --kill-child does the same for the engine it forks, which is pid 1 of a new pid namespace. When a
// pid namespace's init dies the kernel kills every process in it, so nginx's workers (which would keep
// serving after a SIGKILLed master) and anything they fork die too. Both tools are util-linux, which the lab
// already needs for `unshare`.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { scanProcNetTcp } from '../sampler/proc-net-tcp.ts';
import { TCP_LISTEN } from '../sampler/tcp-states.ts';

const TAIL_LIMIT = 4000;

export class GuardedChild {
  private readonly child: ChildProcess;
  private stderrText = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(argv: readonly string[], options: { cwd: string; onStdoutLine?: (line: string) => void; onStderrLine?: (line: string) => void }) {
    this.child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', '--pid', '--fork', '--kill-child=SIGKILL', '--', ...argv], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    lines(this.child.stdout!, (l) => options.onStdoutLine?.(l));
    lines(this.child.stderr!, (l) => {
      this.stderrText = `${this.stderrText}${l}\n`.slice(-TAIL_LIMIT);
      options.onStderrLine?.(l);
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
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGKILL to the wrapper: the kernel then kills the engine (pdeathsig) and its whole pid namespace. */
  kill(): void {
    if (this.exitStatus === undefined) this.child.kill('SIGKILL');
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

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    let nl: number;
    while ((nl = rest.indexOf('\n')) !== -1) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
  });
  stream.on('end', () => rest.trim() && onLine(rest));
}

/** Whether a TCP socket listens on `port` in this network namespace (read from /proc, no connection made). */
export function listeningOn(port: number): boolean {
  let found = false;
  for (const [file, family] of [['/proc/net/tcp', 4], ['/proc/net/tcp6', 6]] as const) {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch {
      continue;
    }
    scanProcNetTcp(buf, family, (row) => {
      if (row.state === TCP_LISTEN && row.localPort === port) found = true;
    });
    if (found) return true;
  }
  return false;
}

/** Resolves once the engine listens; rejects with its stderr if it exits first or never listens. Counts tries, not time. */
export async function waitUntilListening(child: GuardedChild, port: number, what: string, tries = 100, everyMs = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (child.exitStatus) {
      throw new Error(`${what} exited (${child.exitStatus.code ?? child.exitStatus.signal}) before listening on port ${port}: ${child.stderrTail || 'no output'}`);
    }
    if (listeningOn(port)) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  child.kill();
  throw new Error(`${what} did not listen on port ${port} after ${tries} checks: ${child.stderrTail || 'no output'}`);
}

/** Follows a log file the engine appends to, line by line, from its start. */
export class FileTail {
  private offset = 0;
  private rest = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => this.poll(), everyMs);
  }

  /** Reads what was appended since the last poll. */
  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      let n: number;
      while ((n = readSync(fd, buf, 0, buf.length, this.offset)) > 0) {
        this.offset += n;
        this.rest += buf.toString('utf8', 0, n);
        let nl: number;
        while ((nl = this.rest.indexOf('\n')) !== -1) {
          const line = this.rest.slice(0, nl);
          this.rest = this.rest.slice(nl + 1);
          if (line.trim()) this.onLine(line);
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
  }
}

/** In a user namespace (a rootless run) uid 0 is not the machine's root: only a part of the uid space is mapped. */
export function inUserNamespace(): boolean {
  try {
    return readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') !== '0 0 4294967295';
  } catch {
    return false;
  }
}

/**
 * The lifecycle an engine actor shares: launch the guarded child, note an exit nobody asked for, stop it
 * gracefully with the engine's own signal or kill it, and clean up exactly once when it is gone.
 */
export class EngineRun {
  child: GuardedChild | undefined;
  exitedEarly: string | null = null;
  readonly done: Promise<void>;
  private stopping = false;
  private finished = false;
  private resolveDone!: () => void;

  constructor(
    private readonly engine: string,
    private readonly log: (level: 'error', msg: string) => void,
    private readonly cleanup: () => void,
  ) {
    this.done = new Promise<void>((r) => (this.resolveDone = r));
  }

  launch(argv: readonly string[], options: ConstructorParameters<typeof GuardedChild>[1]): GuardedChild {
    const child = (this.child = new GuardedChild(argv, options));
    void child.exited.then((status) => {
      if (!this.stopping) {
        this.exitedEarly = `exited (${status.code ?? status.signal}): ${child.stderrTail}`;
        this.log('error', `${this.engine} ${this.exitedEarly}`);
      }
      this.finish();
    });
    return child;
  }

  /** Graceful: the engine's own stop signal (nginx SIGQUIT, haproxy SIGUSR1), SIGKILL after graceMs. */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    this.stopping = true;
    if (!this.child) this.finish();
    await this.child?.stop(signal, graceMs);
    await this.done;
  }

  kill(): void {
    this.stopping = true;
    if (this.child) this.child.kill();
    else this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.cleanup();
    this.resolveDone();
  }
}
