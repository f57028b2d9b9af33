// Many `ip` commands in one process: `ip [-n NS] -batch -` reads one command a line from stdin. Without -force
// it stops at the first command that fails and says "Command failed -:N" on stderr; that line number names the
// command in the error, as if it had been run alone.
import { run } from '../core/command.ts';
import { LabCommandError, WaitlabError } from '../core/errors.ts';
import { namedNamespacePath } from '../sampler/sock-diag.ts';

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

/**
 * Where a batch runs: `ip -n NS` enters NS's network namespace and a private mount namespace of its own; `nsenter`
 * enters the network namespace only, so a `netns add` there mounts its name in the machine's /run/netns, and the
 * namespace it creates is a child of NS (which is what reads NS's tcp_child_ehash_entries).
 */
export type BatchPlace = { readonly netns?: string; readonly enter?: 'ip' | 'nsenter' };

function prefix(place: BatchPlace): string[] {
  if (place.netns === undefined) return ['ip'];
  if (place.enter === 'nsenter') return ['nsenter', `--net=${namedNamespacePath(place.netns)}`, 'ip'];
  return ['ip', '-n', place.netns];
}

function placed(netns: string | BatchPlace | undefined): BatchPlace {
  return typeof netns === 'string' ? { netns } : (netns ?? {});
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
export async function ipBatch(commands: readonly IpCommand[], netns?: string | BatchPlace): Promise<void> {
  if (commands.length === 0) return;
  const input = `${commands.map(batchLine).join('\n')}\n`;
  const [program, ...args] = [...prefix(placed(netns)), '-batch', '-'];
  try {
    await run(program!, args, { input, timeoutMs: 60_000 });
  } catch (err) {
    if (!(err instanceof LabCommandError)) throw err;
    const line = failedLine(err.stderr);
    const command = line !== undefined ? commands[line - 1] : undefined;
    if (!command) throw err;
    const message = err.stderr.replace(/^Command failed -:\d+\s*$/m, '').trim();
    throw new LabCommandError([...prefix(placed(netns)), ...command], err.exitCode, message);
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
    await run('ip', [...prefix({ netns }).slice(1), '-force', '-batch', '-'], { input, timeoutMs: 60_000 });
    return '';
  } catch (err) {
    if (err instanceof LabCommandError) return err.stderr;
    throw err;
  }
}
