// The files actors run with (ActorPlan.files: a proxy's filled-in nginx.conf), copied into the run directory
// before the lab is built, so the user sees exactly what ran. Each name is checked (one plain file name, never a
// path) and each file is new ('wx': O_EXCL, which also refuses a symlink planted in its place).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputError } from '../core/errors.ts';
import type { Plan } from '../core/plan.ts';

const FILE_NAME = /^[a-z][a-z0-9_-]{0,63}\.[a-z][a-z0-9.]{0,15}$/;

/** Writes every actor's plan files into `dir`; returns their names. */
export function writeActorFiles(plan: Plan, dir: string): string[] {
  const written: string[] = [];
  for (const actor of Object.values(plan.actors)) {
    for (const [name, text] of Object.entries(actor.files ?? {})) {
      if (!FILE_NAME.test(name))
        throw new OutputError(`actor ${actor.name}: refusing a run file named ${JSON.stringify(name)}`);
      try {
        writeFileSync(join(dir, name), text, { flag: 'wx', mode: 0o644 });
      } catch (err) {
        throw new OutputError(
          `cannot write ${name} in ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      written.push(name);
    }
  }
  return written;
}
