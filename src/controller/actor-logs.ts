// <actor>.log in the run directory: the lines an actor's own process printed, as its agent sent them (the actor
// caps them). Each file is new ('wx': O_EXCL, which also refuses a symlink planted in its place) in the run's own
// directory, which run-dir.ts made and checked as every other run file's.
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { OutputError } from '../core/errors.ts';

const ACTOR_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

export class ActorLogs {
  private readonly files = new Map<string, WriteStream>();
  private failure: Error | undefined;

  constructor(private readonly dir: string) {}

  write(actor: string, line: string): void {
    if (this.failure || !ACTOR_NAME.test(actor)) return;
    let out = this.files.get(actor);
    if (!out) {
      out = createWriteStream(join(this.dir, `${actor}.log`), { flags: 'wx', mode: 0o644 });
      out.on(
        'error',
        (err) => (this.failure ??= new OutputError(`cannot write ${actor}.log in ${this.dir}: ${err.message}`)),
      );
      this.files.set(actor, out);
    }
    out.write(`${line}\n`);
  }

  /** Flushes and closes every file; rejects with the first write failure. */
  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((out) => new Promise<void>((resolve) => out.end(resolve))));
    if (this.failure) throw this.failure;
  }
}
