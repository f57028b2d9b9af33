// Finds an engine's executable at plan time, so a missing nginx or haproxy is a validation problem that names
// the Debian package, before any namespace exists. An ordinary user's PATH often lacks /usr/sbin, where both live.
import { findExecutable } from '../core/command.ts';

export const ENGINE_PACKAGES: Readonly<Record<string, string>> = {
  nginx: 'apt-get install nginx',
  haproxy: 'apt-get install haproxy',
  setpriv: 'apt-get install util-linux',
  unshare: 'apt-get install util-linux',
};

/** Problems for an external engine: its binary and the tools that keep it from outliving its agent. */
export function engineBinaryProblems(engine: 'nginx' | 'haproxy', given: string | undefined, where: string): { binary?: string; problems: string[] } {
  const problems: string[] = [];
  const binary = findExecutable(engine, given);
  if (!binary) {
    problems.push(
      given !== undefined
        ? `${where}.binary: ${given} is not an executable file (give an absolute path to ${engine}, or leave it out to use the installed one)`
        : `${where}.engine: ${engine} is not installed (${ENGINE_PACKAGES[engine]}), or use engine builtin`,
    );
  }
  for (const tool of ['setpriv', 'unshare']) {
    if (!findExecutable(tool)) problems.push(`${where}.engine: ${engine} runs under ${tool}, which is not installed (${ENGINE_PACKAGES[tool]})`);
  }
  return { binary, problems };
}
