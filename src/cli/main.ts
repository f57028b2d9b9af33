// The CLI only parses and calls the library (after autocannon.js). Human output goes to stderr,
// machine output (--json, --dry-run) to stdout; errors become exit codes only here.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yargs from 'yargs';
import { runScenario } from '../controller/run-scenario.ts';
import { DEFAULTS } from '../core/defaults.ts';
import { isWaitlabError, UsageError, WaitlabError } from '../core/errors.ts';
import { PACKAGE_ROOT } from '../core/paths.ts';
import { loadPlan, parseOverrides } from '../plan/load-plan.ts';
import { listScenarioNames, loadScenario } from '../plan/scenario-file.ts';
import type { LabDriver } from '../lab/driver.ts';
import { LAB_DRIVERS, labDriver } from '../lab/registry.ts';
import { writeOutputs } from '../outputs/registry.ts';
import { renderText } from '../outputs/terminal-summary.ts';
import { REPORT_SCHEMA_VERSION, type Report } from '../report/report.ts';
import { EXIT, exitCodeFor } from './exit-codes.ts';
import { progressPrinter } from './progress.ts';

const BIN = resolve(PACKAGE_ROOT, 'bin/waitlab.js');

/** Without the driver's privileges this command runs again with them; returns its exit code, or undefined if this process should go on. */
function continueWithLabPrivileges(driver: LabDriver): Promise<number | undefined> {
  return driver.withPrivileges([process.execPath, BIN, ...process.argv.slice(2)]);
}

function verdictCode(report: Report): number {
  return report.verdict === 'pass' ? EXIT.OK : report.verdict === 'fail' ? EXIT.THRESHOLDS_FAILED : EXIT.INTERNAL;
}

async function scenarioCommand(argv: { scenario: string; set: string[]; sysctl: string[]; out?: string; json: boolean; dryRun: boolean; verbose: boolean; progress: boolean; driver: string }): Promise<number> {
  const driver = labDriver(argv.driver);
  const plan = await loadPlan(argv.scenario, parseOverrides(argv.set), { driver: driver.name, sysctls: argv.sysctl });
  if (argv.dryRun) {
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    return EXIT.OK;
  }
  const delegated = await continueWithLabPrivileges(driver);
  if (delegated !== undefined) return delegated;

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
      driver,
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

/** Re-renders every output of a run directory from its report.json. */
async function reportCommand(argv: { dir: string; json: boolean }): Promise<number> {
  const file = join(argv.dir, 'report.json');
  let report: Report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  if (report?.schemaVersion !== REPORT_SCHEMA_VERSION) throw new UsageError(`${file} is not a waitlab report of schema version ${REPORT_SCHEMA_VERSION}`);
  await writeOutputs(report, argv.dir);
  if (argv.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stderr.write(renderText(report));
  return verdictCode(report);
}

/** Runs a command with the lab's privileges: as root directly, as a user inside a user namespace (npm test uses it). */
async function privilegedCommand(argv: { command: string[]; driver: string }): Promise<number> {
  const delegated = await continueWithLabPrivileges(labDriver(argv.driver));
  if (delegated !== undefined) return delegated;
  const [cmd, ...args] = argv.command;
  if (!cmd) throw new WaitlabError('privileged: no command given');
  const child = spawn(cmd, args, { stdio: 'inherit' });
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => child.kill(s));
  return new Promise((r) => child.on('exit', (code, signal) => r(code ?? (signal === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT))));
}

async function reapCommand(): Promise<number> {
  const removed: string[] = [];
  for (const driver of LAB_DRIVERS) {
    const delegated = await continueWithLabPrivileges(driver);
    if (delegated !== undefined) return delegated;
    removed.push(...(await driver.reap()));
  }
  process.stderr.write(removed.length ? `removed ${removed.join(', ')}\n` : 'no stale labs\n');
  return EXIT.OK;
}

const DRIVER_OPTION = {
  type: 'string',
  choices: LAB_DRIVERS.map((d) => d.name),
  default: DEFAULTS.driver,
  describe: `lab driver: ${LAB_DRIVERS.map((d) => `${d.name} (${d.describe})`).join('; ')}`,
} as const;

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
          .option('sysctl', { type: 'string', array: true, default: [] as string[], describe: 'a sysctl of one host, over the scenario\'s: --sysctl client:net.ipv4.tcp_tw_reuse=1 (repeatable; validated like the scenario\'s own)' })
          .option('out', { type: 'string', describe: 'run directory (default reports/<scenario>/<timestamp>)' })
          .option('json', { type: 'boolean', default: false, describe: 'print report.json on stdout' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'validate and print the resolved plan; start nothing' })
          .option('verbose', { type: 'boolean', default: false, describe: 'also print the log on stderr' })
          .option('progress', { type: 'boolean', default: true, describe: 'show a progress line on stderr (--no-progress to hide)' })
          .option('driver', DRIVER_OPTION),
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
      (y) => y.positional('command', { type: 'string', array: true, default: [] as string[] }).option('driver', DRIVER_OPTION),
      (argv) => set(privilegedCommand({ command: [...argv.command, ...((argv['--'] ?? []) as string[])], driver: argv.driver })),
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
    const msg = isWaitlabError(err) ? err.message : (err as Error)?.stack ?? String(err);
    process.stderr.write(`waitlab: ${msg}\n`);
    exitAfterFlush(exitCodeFor(err));
  });
}
