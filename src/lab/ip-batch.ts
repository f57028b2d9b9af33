// Many `ip` commands in one process: `ip [-n NS] -batch -` reads one command a line from stdin. Without -force
// it stops at the first command that fails and says "Command failed -:N" on stderr; that line number names the
// command in the error, as if it had been run alone.
import { run } from '../core/command.ts';
import { LabCommandError, WaitlabError } from '../core/errors.ts';

/** One `ip` command without the leading `ip`, as separate words: `['link', 'set', 'lo', 'up']`. */
export type IpCommand = readonly string[];

// ip splits a batch line on blanks and treats quotes, backslashes and '#' specially (makeargs): a word holding
// any of them, or a line break, could change or add a command, so only plain words are accepted.
const PLAIN_WORD = /^[A-Za-z0-9_.:/@%+-]+$/;

function batchLine(command: IpCommand): string {
  for (const word of command) {
    if (!PLAIN_WORD.test(word))
      throw new WaitlabError(
        `refusing an ip batch word that is not plain (letters, digits, _.:/@%+-): ${JSON.stringify(word)}`,
      );
  }
  return command.join(' ');
}

function prefix(netns: string | undefined): string[] {
  return netns === undefined ? ['ip'] : ['ip', '-n', netns];
}

/** The number N of the first "Command failed -:N" on ip's stderr: the failed command's 1-based line. */
export function failedLine(stderr: string): number | undefined {
  const m = /Command failed -:(\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/**
 * Runs the commands in order in one `ip` process, in `netns` where given (ip enters it before reading a line).
 * Throws a LabCommandError naming the one command that failed, with ip's message for it; nothing after it ran.
 */
export async function ipBatch(commands: readonly IpCommand[], netns?: string): Promise<void> {
  if (commands.length === 0) return;
  const input = `${commands.map(batchLine).join('\n')}\n`;
  const args = [...prefix(netns).slice(1), '-batch', '-'];
  try {
    await run('ip', args, { input, timeoutMs: 60_000 });
  } catch (err) {
    if (!(err instanceof LabCommandError)) throw err;
    const line = failedLine(err.stderr);
    const command = line !== undefined ? commands[line - 1] : undefined;
    if (!command) throw err;
    const message = err.stderr.replace(/^Command failed -:\d+\s*$/m, '').trim();
    throw new LabCommandError([...prefix(netns), ...command], err.exitCode, message);
  }
}

/**
 * Runs every command even past failures (`-force`), in one process; resolves with ip's stderr, which holds a
 * message and a "Command failed -:N" for each command that failed. For teardown, where the rest must still go.
 */
export async function ipBatchForced(commands: readonly IpCommand[], netns?: string): Promise<string> {
  if (commands.length === 0) return '';
  const input = `${commands.map(batchLine).join('\n')}\n`;
  try {
    await run('ip', [...prefix(netns).slice(1), '-force', '-batch', '-'], { input, timeoutMs: 60_000 });
    return '';
  } catch (err) {
    if (err instanceof LabCommandError) return err.stderr;
    throw err;
  }
}
