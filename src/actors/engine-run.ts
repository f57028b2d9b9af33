// The lifecycle nginx and HAProxy share, around a GuardedChild.
import { deferred } from '../core/deferred.ts';
import { GuardedChild } from './guarded-child.ts';

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
  private readonly ended = deferred();

  constructor(
    private readonly engine: string,
    private readonly log: (level: 'error', msg: string) => void,
    private readonly cleanup: () => void,
  ) {
    this.done = this.ended.promise;
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
    this.ended.resolve();
  }
}
