// The CLI only parses and calls the library (after autocannon.js). Human output goes to stderr,
// machine output (--json, --dry-run) to stdout; errors become exit codes only here.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yargs from 'yargs';
import { runScenario } from '../controller/run-scenario.ts';
import { UsageError, WaitlabError } from '../core/errors.ts';
import { PACKAGE_ROOT } from '../core/paths.ts';
import { loadPlan, parseOverrides } from '../plan/load-plan.ts';
import { listScenarioNames, loadScenario } from '../plan/scenario-file.ts';
import { assertLabPossible, currentPrivilege, prepareUserNamespace, reexecInUserNamespace } from '../lab/privilege.ts';
import { reapStaleLabs } from '../lab/stale-labs.ts';
import type { Report } from '../report/report.ts';
import { renderMarkdown, renderText } from '../outputs/summary.ts';
import { EXIT, exitCodeFor } from './exit-codes.ts';
import { progressPrinter } from './progress.ts';

const BIN = resolve(PACKAGE_ROOT, 'bin/waitlab.js');

/** An ordinary user's run continues as root of a user namespace; returns its exit code, or undefined if this process should go on. */
async function continueWithLabPrivileges(): Promise<number | undefined> {
  if (currentPrivilege() !== 'user') return undefined;
  assertLabPossible();
  return reexecInUserNamespace([process.execPath, BIN, ...process.argv.slice(2)]);
}

function verdictCode(report: Report): number {
  return report.verdict === 'pass' ? EXIT.OK : report.verdict === 'fail' ? EXIT.THRESHOLDS_FAILED : EXIT.INTERNAL;
}

async function scenarioCommand(argv: { scenario: string; set: string[]; out?: string; json: boolean; dryRun: boolean; verbose: boolean; progress: boolean }): Promise<number> {
  const plan = await loadPlan(argv.scenario, parseOverrides(argv.set));
  if (argv.dryRun) {
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    return EXIT.OK;
  }
  const delegated = await continueWithLabPrivileges();
  if (delegated !== undefined) return delegated;
  assertLabPossible();

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) return; // already tearing down; teardown is bounded by its own timeouts
    process.stderr.write(`\n${signal}: stopping the load and tearing the lab down...\n`);
    abort.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = progressPrinter();
  process.stderr.write(`waitlab: running ${plan.scenario.name} (${Object.keys(plan.hosts).join(', ')}), load up to ${(plan.maxLoadMs / 1000).toFixed(1)} s\n`);
  try {
    const { report, dir } = await runScenario(plan, {
      outDir: argv.out ? resolve(argv.out) : undefined,
      signal: abort.signal,
      verbose: argv.verbose,
      onProgress: argv.progress ? progress.update : undefined,
    });
    progress.done();
    process.stderr.write(`\n${renderText(report)}\nreport: ${dir}\n`);
    if (argv.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    return verdictCode(report);
  } catch (err) {
    progress.done();
    const dir = (err as { runDir?: string }).runDir;
    if (dir) process.stderr.write(`partial report: ${dir}\n`);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function listCommand(): Promise<number> {
  for (const name of listScenarioNames()) {
    const { definition } = await loadScenario(name);
    process.stdout.write(`${name.padEnd(28)} ${definition.description}\n`);
  }
  return EXIT.OK;
}

function reportCommand(argv: { dir: string; json: boolean }): number {
  const report = JSON.parse(readFileSync(join(argv.dir, 'report.json'), 'utf8')) as Report;
  writeFileSync(join(argv.dir, 'summary.md'), renderMarkdown(report));
  if (argv.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stderr.write(renderText(report));
  return verdictCode(report);
}

/** Runs a command with the lab's privileges: as root directly, as a user inside a user namespace (npm test uses it). */
async function privilegedCommand(argv: { command: string[] }): Promise<number> {
  const delegated = await continueWithLabPrivileges();
  if (delegated !== undefined) return delegated;
  prepareUserNamespace();
  const [cmd, ...args] = argv.command;
  if (!cmd) throw new WaitlabError('privileged: no command given');
  const child = spawn(cmd, args, { stdio: 'inherit' });
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => child.kill(s));
  return new Promise((r) => child.on('exit', (code, signal) => r(code ?? (signal === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT))));
}

async function reapCommand(): Promise<number> {
  const delegated = await continueWithLabPrivileges();
  if (delegated !== undefined) return delegated;
  const removed = await reapStaleLabs();
  process.stderr.write(removed.length ? `removed ${removed.join(', ')}\n` : 'no stale labs\n');
  return EXIT.OK;
}

export async function main(args: string[]): Promise<number> {
  let code: number = EXIT.OK;
  const set = (p: Promise<number> | number) => Promise.resolve(p).then((c) => void (code = c));
  await yargs(args)
    .scriptName('waitlab')
    .usage('$0 <command> [options]')
    .command(
      'scenario <scenario>',
      'run a scenario (a name from scenarios/ or a path to a .ts file)',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario name or file' })
          .option('set', { type: 'string', array: true, default: [] as string[], describe: 'override a parameter: --set key=value (repeatable)' })
          .option('out', { type: 'string', describe: 'run directory (default reports/<scenario>/<timestamp>)' })
          .option('json', { type: 'boolean', default: false, describe: 'print report.json on stdout' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'validate and print the resolved plan; start nothing' })
          .option('verbose', { type: 'boolean', default: false, describe: 'also print the log on stderr' })
          .option('progress', { type: 'boolean', default: true, describe: 'show a progress line on stderr (--no-progress to hide)' }),
      (argv) => set(scenarioCommand(argv as never)),
    )
    .command('list', 'list the scenarios with one line each', {}, () => set(listCommand()))
    .command(
      'report <dir>',
      're-render a run directory from its report.json',
      (y) => y.positional('dir', { type: 'string', demandOption: true }).option('json', { type: 'boolean', default: false }),
      (argv) => set(reportCommand(argv as never)),
    )
    .command('reap', 'remove labs left behind by killed runs (never those of a live run)', {}, () => set(reapCommand()))
    .command(
      'privileged [command..]',
      'run a command with lab privileges (root, or root of a user namespace): waitlab privileged -- CMD ARGS',
      (y) => y.positional('command', { type: 'string', array: true, default: [] as string[] }),
      (argv) => set(privilegedCommand({ command: [...argv.command, ...((argv['--'] ?? []) as string[])] })),
    )
    .demandCommand(1, 'name a command: scenario, list, report, reap')
    .parserConfiguration({ 'populate--': true })
    .strict()
    .epilogue(
      'Exit codes: 0 ok; 1 thresholds failed; 2 invalid scenario or usage; 3 lab could not be built (missing privilege or tool); 4 internal error; 130/143 interrupted by SIGINT/SIGTERM.',
    )
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .help()
    .parseAsync();
  return code;
}

/** The process's entry point (bin/waitlab.js): runs the command, prints an error, exits with its code. */
export function runCli(args: string[]): void {
  // A reader that went away (`waitlab list | head`) is not an error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? EXIT.OK : EXIT.INTERNAL));
  // A pipe on stdout is written asynchronously: exit only once what --json wrote has been flushed.
  const exitAfterFlush = (code: number) => process.stdout.write('', () => process.exit(code));
  main(args).then(exitAfterFlush, (err: unknown) => {
    const msg = err instanceof WaitlabError ? err.message : (err as Error)?.stack ?? String(err);
    process.stderr.write(`waitlab: ${msg}\n`);
    exitAfterFlush(exitCodeFor(err));
  });
}
