// Finds an engine's executable at plan time. The installed one is declared as a tool the plan needs, so a missing
// nginx or haproxy ends validation naming its package and `waitlab setup`, before any namespace exists.
import { findExecutable } from '../core/executable-lookup.ts';
import type { LinkContext } from './actor.ts';

/** The engine's executable: the one given (checked), or the installed one with the tools that keep it from outliving its agent. */
export function engineBinary(
  engine: 'nginx' | 'haproxy',
  given: string | undefined,
  ctx: LinkContext,
  where: string,
  problems: string[],
): string | undefined {
  for (const tool of ['setpriv', 'unshare']) ctx.needTool(tool);
  if (given === undefined) return ctx.needTool(engine);
  const binary = findExecutable(engine, given);
  if (!binary)
    problems.push(
      `${where}.binary: ${given} is not an executable file (give an absolute path to ${engine}, or leave it out to use the installed one)`,
    );
  return binary;
}
