// The CLI only parses and calls the library (after autocannon.js). Human output goes to stderr,
// machine output (--json, --dry-run) to stdout; errors become exit codes only here.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yargs from 'yargs';
import { rebuildReport } from '../controller/rebuild-report.ts';
import { writeCompareFiles } from '../controller/compare-files.ts';
import { prepareOutDir } from '../controller/run-dir.ts';
import { recordBaseline } from '../controller/record-baseline.ts';
import { compare } from '../controller/compare-run.ts';
import { comparisonExitCode, EXIT, exitCodeFor, reportExitCode } from '../controller/exit-codes.ts';
import {
  DEFAULT_MAX_RUNS,
  MOST_MAX_RUNS,
  prepareRun,
  type PreparedComparison,
  type RunRequest,
} from '../controller/prepare-run.ts';
import { executeRun } from '../controller/run.ts';
import { estimateMs } from '../controller/run-matrix.ts';
import { DEFAULTS } from '../core/defaults.ts';
import { isWaitlabError, PlanValidationError, UsageError, WaitlabError } from '../core/errors.ts';
import { PACKAGE_ROOT, PACKAGE_VERSION } from '../core/paths.ts';
import { terminalSafeLines } from '../core/terminal-text.ts';
import { trustedDirectory } from '../core/trusted-path.ts';
import { parseToleranceOverride } from '../core/tolerance.ts';
import { parseDuration } from '../core/units.ts';
import { loadPlan, parseOverrides, type PlanOptions } from '../plan/load-plan.ts';
import { INFORMATIONAL } from '../report/comparison.ts';
import { scaleOf } from '../plan/replicas.ts';
import { listScenarioNames, loadScenario } from '../plan/scenario-file.ts';
import { scenarioTools } from '../plan/catalogue-tools.ts';
import type { LabDriver } from '../lab/driver.ts';
import { baseImage, labImage } from '../lab/lab-image.ts';
import { LAB_DRIVERS, labDriver } from '../lab/registry.ts';
import { comparisonMarkdown, comparisonText } from '../outputs/comparison-markdown.ts';
import { matrixMarkdown, matrixText } from '../outputs/matrix-summary.ts';
import { writeOutputs } from '../outputs/registry.ts';
import { renderMarkdown } from '../outputs/summary-markdown.ts';
import { renderText } from '../outputs/terminal-summary.ts';
import { BASELINE_FILE, readBaseline, readReport } from '../report/report-file.ts';
import type { Report } from '../report/report.ts';
import { runDoctor } from '../watch/run-doctor.ts';
import { printObserved, runReproduce } from '../watch/run-reproduce.ts';
import { runWatch } from '../watch/run-watch.ts';
import { runInTarget, watchTarget } from '../watch/watch-target.ts';
import { liveRunHosts } from '../watch/live-run.ts';
import { watchHosts } from '../watch/watch-hosts.ts';
import { annotations, ciEnvironment, reportToCi } from './ci.ts';
import { composeCommand } from './compose-command.ts';
import { kubeCommand, kubeOptions } from './kube-command.ts';
import { planOptions, SET_OPTION } from './plan-options.ts';
import { progressPrinter } from './progress.ts';
import { setupCommand } from './setup-command.ts';

const BIN = resolve(PACKAGE_ROOT, 'bin/waitlab.js');

/** Without the driver's privileges this command runs again with them; returns its exit code, or undefined if this process should go on. */
function continueWithLabPrivileges(driver: LabDriver): Promise<number | undefined> {
  return driver.withPrivileges([process.execPath, BIN, ...process.argv.slice(2)]);
}

/** Runs of one baseline: each is a whole lab run. */
const MAX_BASELINE_RUNS = 20;

interface ScenarioArgs {
  scenario: string;
  set: string[];
  sysctl: string[];
  out?: string;
  json: boolean;
  dryRun: boolean;
  verbose: boolean;
  progress: boolean;
  driver: string;
  threshold: string[];
  tolerance: string[];
  baseline?: string;
  profile?: string;
  sweep?: string;
  maxRuns: string;
  scale: string[];
  image?: string;
  baseImage?: string;
  capture?: string;
  captureFull: boolean;
  captureMax?: string;
}

/** --capture and its two companions, as the plan takes them; the companions alone are a usage error. */
function captureOf(argv: ScenarioArgs): PlanOptions['capture'] {
  if (argv.capture === undefined) {
    if (argv.captureFull || argv.captureMax !== undefined)
      throw new UsageError('--capture-full and --capture-max go with --capture host[,host]');
    return undefined;
  }
  return {
    hosts: argv.capture,
    full: argv.captureFull,
    ...(argv.captureMax !== undefined ? { maxSize: argv.captureMax } : {}),
  };
}

/** --image and --base-image reach the compose and kube drivers as the environment it documents (WAITLAB_IMAGE, WAITLAB_BASE_IMAGE). */
function useImages(argv: ScenarioArgs, driver: LabDriver): void {
  if (argv.image === undefined && argv.baseImage === undefined) return;
  if (driver.name !== 'compose' && driver.name !== 'kube')
    throw new UsageError('--image and --base-image are for --driver compose or kube');
  // Checked here, so that a malformed name is a usage error (exit 2) before any lab.
  if (argv.image !== undefined) process.env['WAITLAB_IMAGE'] = labImage(argv.image);
  if (argv.baseImage !== undefined) process.env['WAITLAB_BASE_IMAGE'] = baseImage(argv.baseImage);
}

/** --tolerance 'pattern=+10%' ... as the plan takes them; a malformed one is a usage error. */
function tolerancesOf(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const text of list) {
    const { pattern, tolerance } = parseToleranceOverride(text);
    out[pattern] = tolerance.text;
  }
  return out;
}

/** Runs `work` with SIGINT/SIGTERM turned into an abort: the lab is torn down and the partial report written. */
async function withSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) return; // already tearing down; teardown is bounded by its own timeouts
    process.stderr.write(`\n${signal}: stopping the load and tearing the lab down...\n`);
    abort.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The flags as run() takes them; the checks (a baseline of this scenario, one run or several) are prepareRun's. */
function runRequestOf(argv: ScenarioArgs): RunRequest {
  return {
    set: parseOverrides(argv.set),
    profile: (argv.profile ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
    ...(argv.sweep === undefined ? {} : { sweep: argv.sweep }),
    sysctl: argv.sysctl,
    scale: scaleOf(argv.scale),
    threshold: argv.threshold,
    tolerance: tolerancesOf(argv.tolerance),
    ...(argv.baseline === undefined ? {} : { baseline: argv.baseline }),
    driver: argv.driver,
    maxRuns: countArg('max-runs', argv.maxRuns, 1, MOST_MAX_RUNS),
    ...(captureOf(argv) ? { capture: captureOf(argv)! } : {}),
  };
}

async function scenarioCommand(argv: ScenarioArgs): Promise<number> {
  const driver = labDriver(argv.driver);
  useImages(argv, driver);
  const prepared = await prepareRun(argv.scenario, runRequestOf(argv));
  if (prepared.kind === 'run') for (const warning of prepared.warnings) process.stderr.write(`waitlab: ${warning}\n`);
  if (argv.dryRun) {
    process.stdout.write(`${JSON.stringify(prepared.kind === 'run' ? prepared.plan : prepared.plans, null, 2)}\n`);
    return EXIT.OK;
  }
  if (prepared.kind === 'comparison') return comparisonCommand(argv, driver, prepared);
  const delegated = await continueWithLabPrivileges(driver);
  if (delegated !== undefined) return delegated;

  const { plan } = prepared;
  const ci = ciEnvironment();
  const progress = progressPrinter(process.stderr, ci.plain);
  process.stderr.write(
    `waitlab: running ${plan.scenario.name} (${hostList(Object.keys(plan.hosts))}), load up to ${(plan.maxLoadMs / 1000).toFixed(1)} s\n`,
  );
  for (const [host, group] of Object.entries(plan.replicas ?? {}))
    if (group.scenarioReplicas !== undefined)
      process.stderr.write(
        `waitlab: --scale ${host}=${group.hosts.length} runs ${group.hosts.length} of host ${host} where the scenario gives ${group.scenarioReplicas}; the parameters in its report are those that gave ${group.scenarioReplicas}\n`,
      );
  try {
    const outcome = await withSignals((signal) =>
      executeRun(prepared, {
        ...(argv.out ? { out: argv.out } : {}),
        signal,
        verbose: argv.verbose,
        ...(argv.progress ? { onProgress: progress.update } : {}),
      }),
    );
    if (outcome.kind !== 'run') throw new WaitlabError('one run was prepared, a comparison came back');
    const { report, dir } = outcome;
    progress.done();
    process.stderr.write(`\n${renderText(report)}\nreport: ${dir}\n`);
    reportToCi(ci, annotations(report, report.comparison), renderMarkdown(report));
    if (argv.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    return outcome.exitCode;
  } catch (err) {
    progress.done();
    const dir = (err as { runDir?: string }).runDir;
    if (dir) process.stderr.write(`partial report: ${dir}\n`);
    throw err;
  }
}

/** Runs a scenario once per profile and per swept value, each in a fresh lab, and puts the runs side by side. */
async function comparisonCommand(argv: ScenarioArgs, driver: LabDriver, prepared: PreparedComparison): Promise<number> {
  const delegated = await continueWithLabPrivileges(driver);
  if (delegated !== undefined) return delegated;
  const { entries, plans } = prepared;
  process.stderr.write(
    `waitlab: ${entries.length} runs of ${plans[0]!.scenario.name} (${entries.map((e) => e.label).join('; ')}), about ${Math.ceil(estimateMs(plans) / 1000)} s in all\n`,
  );
  const outcome = await withSignals((signal) =>
    executeRun(prepared, {
      ...(argv.out ? { out: argv.out } : {}),
      signal,
      verbose: argv.verbose,
      onRun: (i, label, r) => process.stderr.write(`  run ${i}/${entries.length} ${label}: ${r.verdict}\n`),
    }),
  );
  if (outcome.kind !== 'comparison') throw new WaitlabError('a comparison was prepared, one run came back');
  const { comparison, dir } = outcome;
  process.stderr.write(`\n${matrixText(comparison)}\ncomparison: ${dir}\n`);
  reportToCi(ciEnvironment(), [], matrixMarkdown(comparison));
  if (argv.json) process.stdout.write(`${JSON.stringify(comparison)}\n`);
  return outcome.exitCode;
}

/** Compares a run (a directory or report.json) with a baseline (a baseline directory, a run directory or a report.json). */
async function compareCommand(argv: {
  baseline: string;
  current: string;
  tolerance: string[];
  out?: string;
  json: boolean;
}): Promise<number> {
  const baseline = readBaseline(resolve(argv.baseline));
  const current = readReport(resolve(argv.current));
  const comparison = compare(baseline, current, { tolerance: tolerancesOf(argv.tolerance), label: argv.current });
  const compared = { ...current, comparison };
  process.stderr.write(comparisonText(comparison));
  if (argv.out) {
    // The same rules as a run's directory: new, or an empty one of ours that no one else can write.
    const dir = prepareOutDir(argv.out);
    await writeCompareFiles(dir, compared, resolve(argv.baseline), resolve(argv.current));
    process.stderr.write(`comparison: ${dir}\n`);
  }
  reportToCi(ciEnvironment(), annotations({ ...compared, thresholds: [] }, comparison), comparisonMarkdown(comparison));
  if (argv.json) process.stdout.write(`${JSON.stringify(comparison)}\n`);
  return comparisonExitCode(comparison);
}

/** Records a baseline: the scenario run `runs` times, summarised into <out>/baseline.json. */
async function baselineCommand(argv: {
  scenario: string;
  set: string[];
  runs: string;
  out?: string;
  driver: string;
  tolerance: string[];
}): Promise<number> {
  const driver = labDriver(argv.driver);
  const plan = await loadPlan(argv.scenario, parseOverrides(argv.set), {
    driver: driver.name,
    tolerances: tolerancesOf(argv.tolerance),
  });
  const runs = countArg('runs', argv.runs, 1, MAX_BASELINE_RUNS);
  const delegated = await continueWithLabPrivileges(driver);
  if (delegated !== undefined) return delegated;
  const dir = resolve(argv.out ?? join('baselines', plan.scenario.name));
  process.stderr.write(`waitlab: recording a baseline of ${plan.scenario.name} from ${runs} runs into ${dir}\n`);
  const baseline = await withSignals((signal) =>
    recordBaseline(plan, runs, dir, {
      signal,
      driver,
      onRun: (i, r) => process.stderr.write(`  run ${i}/${runs}: ${r.verdict}\n`),
    }),
  );
  for (const n of baseline.noisy)
    process.stderr.write(
      `  noisy: ${n.path} spread ${(n.spread * 100).toFixed(1)}% > tolerance ${n.tolerance}; compared ${n.widened === INFORMATIONAL ? 'as informational (never a regression)' : `within ${n.widened}`}\n`,
    );
  process.stderr.write(
    `baseline: ${join(dir, BASELINE_FILE)} (${Object.keys(baseline.metrics).length} metrics, ${baseline.noisy.length} noisier than their tolerance)\n`,
  );
  return EXIT.OK;
}

async function listCommand(): Promise<number> {
  const missingAnywhere = new Set<string>();
  for (const name of listScenarioNames()) {
    const found = await scenarioTools(name).catch((err: unknown) =>
      err instanceof PlanValidationError ? undefined : Promise.reject(err),
    );
    const description = found?.description ?? (await loadScenario(name)).definition.description;
    const mark = found?.missing.length ? `[needs ${found.missing.join(', ')}] ` : '';
    for (const tool of found?.missing ?? []) missingAnywhere.add(tool);
    process.stdout.write(`${name.padEnd(28)} ${mark}${description}\n`);
  }
  if (missingAnywhere.size)
    process.stderr.write(
      `\n[needs ...]: not installed here; npx waitlab setup --only ${[...missingAnywhere].join(',')} installs them\n`,
    );
  return EXIT.OK;
}

/** Re-renders every output of a run directory from its report.json. */
async function reportCommand(argv: { dir: string; json: boolean }): Promise<number> {
  // Every output is rewritten in this directory: no other user may be able to point it, or a parent, elsewhere.
  const dir = trustedDirectory(argv.dir);
  let report: Report;
  if (existsSync(dir) && statSync(dir).isDirectory() && !existsSync(join(dir, 'report.json'))) {
    // A run killed before its report: rebuilt from its log and samples, and said so.
    const rebuilt = rebuildReport(dir);
    report = rebuilt.report;
    process.stderr.write(
      `waitlab: ${dir} had no report.json (the run was killed); rebuilt from ${rebuilt.samples} events of samples.ndjson\n`,
    );
  } else report = readReport(dir);
  await writeOutputs(report, dir);
  if (argv.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stderr.write(renderText(report));
  return reportExitCode(report);
}

/** Runs a command with the lab's privileges: as root directly, as a user inside a user namespace (npm test uses it). */
async function privilegedCommand(argv: { command: string[]; driver: string }): Promise<number> {
  const delegated = await continueWithLabPrivileges(labDriver(argv.driver));
  if (delegated !== undefined) return delegated;
  const [cmd, ...args] = argv.command;
  if (!cmd) throw new WaitlabError('privileged: no command given');
  const child = spawn(cmd, args, { stdio: 'inherit' });
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => child.kill(s));
  return new Promise((r) =>
    child.on('exit', (code, signal) => r(code ?? (signal === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT))),
  );
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

interface LookArgs {
  netns?: string;
  pid?: string;
  label?: string;
  json: boolean;
}

/** A duration option as given (kept as text to pass on into a namespace), checked first. */
function durationArg(name: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

/**
 * A count option, taken as text: yargs' number type reads "abc" as NaN, which every comparison calls false, so a
 * bound given as NaN bounded nothing. Digits only, within min..max.
 */
function countArg(name: string, text: unknown, min: number, max: number): number {
  if (typeof text !== 'string' || !/^\d{1,9}$/.test(text))
    throw new UsageError(`--${name} ${JSON.stringify(text)}: expected a whole number from ${min} to ${max}`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${name} ${n}: expected a whole number from ${min} to ${max}`);
  return n;
}

/** A lab's hosts for one line: all of a small lab, the first few of a scaled one and how many more. */
function hostList(names: readonly string[]): string {
  return names.length <= 8 ? names.join(', ') : `${names.slice(0, 6).join(', ')} and ${names.length - 6} more`;
}

/** The words after `--` (populate--): strings as given, numbers included (parse-positional-numbers off: "0010" stays 0010). */
function wordsAfterDashes(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((word): word is string => typeof word === 'string'))
    throw new Error(`yargs gave the words after -- as ${JSON.stringify(value)}`);
  return value;
}

/** Reads only: in another namespace the same command runs again under nsenter (watch/watch-target.ts). */
async function watchCommand(argv: LookArgs & { interval: string; once: boolean; run?: string }): Promise<number> {
  const intervalMs = durationArg('interval', argv.interval);
  if (argv.run !== undefined) {
    if (argv.netns !== undefined || argv.pid !== undefined)
      throw new UsageError('give --run, --netns or --pid, not several');
    return watchHosts(liveRunHosts(argv.run), {
      intervalText: argv.interval,
      intervalMs,
      once: argv.once,
      json: argv.json,
    });
  }
  const target = watchTarget(argv);
  if (target.kind !== 'self')
    return runInTarget(target, [
      'watch',
      '--interval',
      argv.interval,
      ...(argv.once ? ['--once'] : []),
      ...(argv.json ? ['--json'] : []),
    ]);
  return runWatch({ host: target.label, intervalMs, once: argv.once, json: argv.json });
}

async function doctorCommand(
  argv: LookArgs & { for: string; reproduce: boolean; out?: string; run: boolean; observedJson: boolean },
): Promise<number> {
  const target = watchTarget(argv);
  const forMs = durationArg('for', argv.for);
  if (argv.observedJson) {
    if (target.kind !== 'self') throw new UsageError('--observed-json reads the namespace it runs in');
    return printObserved(target.label, forMs);
  }
  if ((argv.out !== undefined || argv.run) && !argv.reproduce)
    throw new UsageError('--out and --run go with --reproduce');
  if (argv.reproduce) {
    const options = {
      target,
      forText: argv.for,
      forMs,
      run: argv.run,
      json: argv.json,
      ...(argv.out !== undefined ? { out: argv.out } : {}),
    };
    return argv.run ? withSignals((signal) => runReproduce({ ...options, signal })) : runReproduce(options);
  }
  if (target.kind !== 'self')
    return runInTarget(target, ['doctor', '--for', argv.for, ...(argv.json ? ['--json'] : [])]);
  return runDoctor({ host: target.label, forMs, json: argv.json });
}

const LOOK_OPTIONS = {
  netns: {
    type: 'string',
    describe: 'look inside the network namespace /run/netns/NAME (as ip netns names it; needs root)',
  },
  pid: { type: 'string', describe: 'look inside the network namespace of process PID (needs root)' },
  label: { type: 'string', hidden: true, describe: 'the host name to show (set when entering a namespace)' },
} as const;

const TOLERANCE_OPTION = {
  type: 'string',
  array: true,
  default: [] as string[],
  describe:
    "a regression tolerance: --tolerance '<report path, * for one key>=+20%' (+ rise is worse, - fall is worse, ± either; repeatable)",
} as const;

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
    // yargs would read the version of the package.json nearest the working directory: a user's project's.
    .version(PACKAGE_VERSION)
    .usage('$0 <command> [options]')
    .command(
      'scenario <scenario>',
      'run a scenario (a name from scenarios/ or a path to a .ts file)',
      (y) =>
        planOptions(
          y.positional('scenario', { type: 'string', demandOption: true, describe: 'scenario name or file' }),
          {
            replica: 'totals in the report; up to 16, or 200 of short-conn clients on the native engine',
            profiles: 'many',
          },
        )
          .option('out', { type: 'string', describe: 'run directory (default reports/<scenario>/<timestamp>)' })
          .option('json', { type: 'boolean', default: false, describe: 'print report.json on stdout' })
          .option('dry-run', {
            type: 'boolean',
            default: false,
            describe: 'validate and print the resolved plan; start nothing',
          })
          .option('verbose', { type: 'boolean', default: false, describe: 'also print the log on stderr' })
          .option('progress', {
            type: 'boolean',
            default: true,
            describe: 'show a progress line on stderr (--no-progress to hide)',
          })
          .option('driver', DRIVER_OPTION)
          .option('threshold', {
            type: 'string',
            array: true,
            default: [] as string[],
            describe: "add a threshold: --threshold '<report path> <op> <number>' (repeatable)",
          })
          .option('tolerance', TOLERANCE_OPTION)
          .option('baseline', {
            type: 'string',
            describe:
              'compare the run with a baseline: a baseline directory (waitlab baseline), a run directory or a report.json',
          })
          .option('sweep', {
            type: 'string',
            describe:
              'run once per value of a parameter: --sweep rate=100/s,300/s,1000/s or --sweep rate=100..800x2 (or +step)',
          })
          .option('max-runs', {
            type: 'string',
            default: String(DEFAULT_MAX_RUNS),
            describe: `the most runs a comparison may make (1-${MOST_MAX_RUNS})`,
          })
          .option('capture', {
            type: 'string',
            describe:
              'capture packets in these hosts (comma-separated) with tcpdump, from before the load until after it, into <host>.pcap in the run directory; report.json lists them and the findings cite their frames',
          })
          .option('capture-full', {
            type: 'boolean',
            default: false,
            describe: `with --capture: whole packets, not the headers and an HTTP request line (${DEFAULTS.captureSnaplen} bytes of each)`,
          })
          .option('capture-max', {
            type: 'string',
            describe: `with --capture: the most each host's pcap may hold, e.g. 200MB (default ${DEFAULTS.captureMaxBytes / 1e6}MB); the capture stops there and the report says so`,
          })
          .option('image', {
            type: 'string',
            describe:
              'with --driver compose: the image every container runs (WAITLAB_IMAGE; default localhost/waitlab:<version>, built from the Dockerfile when missing)',
          })
          .option('base-image', {
            type: 'string',
            describe:
              'with --driver compose: the local image with Node 20 to build the lab image on when it is missing (WAITLAB_BASE_IMAGE; default node:20-bookworm-slim, pulled)',
          }),
      (argv) => set(scenarioCommand(argv)),
    )
    .command(
      'compare <baseline> <current>',
      'compare a run with a baseline, metric by metric, against tolerances (exit 5 on a regression)',
      (y) =>
        y
          .positional('baseline', {
            type: 'string',
            demandOption: true,
            describe: 'a baseline directory, a run directory or a report.json',
          })
          .positional('current', { type: 'string', demandOption: true, describe: 'a run directory or a report.json' })
          .option('tolerance', TOLERANCE_OPTION)
          .option('out', {
            type: 'string',
            describe: 'write compare.json, compare.md and junit.xml into this directory',
          })
          .option('json', { type: 'boolean', default: false, describe: 'print compare.json on stdout' }),
      (argv) => set(compareCommand(argv)),
    )
    .command(
      'baseline <scenario>',
      "record a baseline: run a scenario several times and keep each metric's median and spread",
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario name or file' })
          .option('runs', { type: 'string', default: '3', describe: `runs to record (1-${MAX_BASELINE_RUNS})` })
          .option('out', { type: 'string', describe: 'baseline directory (default baselines/<scenario>)' })
          .option('set', SET_OPTION)
          .option('tolerance', TOLERANCE_OPTION)
          .option('driver', DRIVER_OPTION),
      (argv) => set(baselineCommand(argv)),
    )
    .command(
      'compose <scenario>',
      "write the compose file of a scenario's lab: a service per host with its agent, and a controller service (docker compose up)",
      (y) =>
        planOptions(
          y.positional('scenario', { type: 'string', demandOption: true, describe: 'scenario name or file' }),
          { replica: 'a service each, up to 200', profiles: 'one-built-in' },
        )
          .option('image', {
            type: 'string',
            describe:
              'the image every service runs (WAITLAB_IMAGE; default localhost/waitlab:<version>, built from the Dockerfile)',
          })
          .option('network', {
            type: 'string',
            describe: 'use this existing network (external) instead of letting compose make an internal one',
          })
          .option('out', { type: 'string', describe: 'write the file here (default: stdout)' }),
      (argv) => set(composeCommand(argv)),
    )
    .command(
      'kube <scenario>',
      "write a scenario's lab as Kubernetes objects: a pod per host with its agent, a controller pod, the plan, a NetworkPolicy (kubectl apply -f)",
      kubeOptions,
      (argv) => set(kubeCommand(argv as never)),
    )
    .command(
      'list',
      'list the scenarios with one line each (marked where a system tool they need is missing here)',
      {},
      () => set(listCommand()),
    )
    .command(
      'setup',
      'install the system tools waitlab uses (nginx, haproxy, nft, podman, chromium, ...) with apt-get or dnf, starting no service; --check only looks',
      (y) =>
        y
          .option('check', {
            type: 'boolean',
            default: false,
            describe:
              'print each tool: where it is and its version, or missing; what needs it; its packages. Exit 1 when one is missing',
          })
          .option('only', { type: 'string', describe: 'only these tools, comma-separated: --only nginx,chromium' })
          .option('for', {
            type: 'string',
            describe:
              "only the tools these scenarios need (names or files, comma-separated) and the netns lab's own: --for short-conn,proxy-short-upstream",
          })
          .option('yes', { type: 'boolean', default: false, describe: 'install without asking (for scripts and CI)' }),
      (argv) => set(setupCommand(argv)),
    )
    .command(
      'report <dir>',
      're-render a run directory from its report.json',
      (y) =>
        y.positional('dir', { type: 'string', demandOption: true }).option('json', { type: 'boolean', default: false }),
      (argv) => set(reportCommand(argv)),
    )
    .command(
      'watch',
      "a live view of one host's (or a live run's hosts') TCP states, port budget per destination, rates and CLOSE_WAIT owners (read-only; q quits)",
      (y) =>
        y
          .options(LOOK_OPTIONS)
          .option('run', { type: 'string', describe: 'every host of a live run: its run directory (needs root)' })
          .option('interval', { type: 'string', default: '2s', describe: 'time between readings' })
          .option('once', {
            type: 'boolean',
            default: false,
            describe: 'print one snapshot (two readings an interval apart) and exit',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'snapshots as JSON on stdout: one with --once, else one line per interval',
          }),
      (argv) => set(watchCommand(argv)),
    )
    .command(
      'doctor',
      'diagnose one host: destinations near their port budget, who closes first, CLOSE_WAIT owners, sysctl myths (read-only; exit 1 when near a limit)',
      (y) =>
        y
          .options(LOOK_OPTIONS)
          .option('for', {
            type: 'string',
            default: '5s',
            describe: 'how long to watch between the two readings (rates and growth)',
          })
          .option('json', { type: 'boolean', default: false, describe: 'the diagnosis as JSON on stdout' })
          .option('reproduce', {
            type: 'boolean',
            default: false,
            describe: 'write a scenario shaped like this host, one part per problem found (on stdout, or --out FILE)',
          })
          .option('out', { type: 'string', describe: 'with --reproduce: write the scenario to this .ts file' })
          .option('run', {
            type: 'boolean',
            default: false,
            describe:
              'with --reproduce: run it in labs, as observed and with each fix, and print the smallest change that cured it (needs root; never changes the host)',
          })
          .option('observed-json', {
            type: 'boolean',
            default: false,
            hidden: true,
            describe: 'the readings --reproduce needs, as JSON (run inside a namespace)',
          }),
      (argv) => set(doctorCommand(argv)),
    )
    .command('reap', 'remove labs left behind by killed runs (never those of a live run)', {}, () => set(reapCommand()))
    .command(
      'privileged [command..]',
      'run a command with lab privileges (root, or root of a user namespace): waitlab privileged -- CMD ARGS',
      (y) =>
        y
          .positional('command', { type: 'string', array: true, default: [] as string[] })
          .option('driver', DRIVER_OPTION),
      (argv) =>
        set(privilegedCommand({ command: [...argv.command, ...wordsAfterDashes(argv['--'])], driver: argv.driver })),
    )
    .demandCommand(
      1,
      'name a command: scenario, compose, kube, list, setup, compare, baseline, report, watch, doctor, reap',
    )
    .parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false })
    .strict()
    .epilogue(
      'Exit codes: 0 ok; 1 thresholds failed (doctor: something near a limit); 2 invalid scenario or usage; 3 lab could not be built (missing privilege or tool); 4 internal error; 5 regression against a baseline; 130/143 interrupted by SIGINT/SIGTERM.',
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
  process.stdout.on('error', (err: NodeJS.ErrnoException) =>
    process.exit(err.code === 'EPIPE' ? EXIT.OK : EXIT.INTERNAL),
  );
  // A pipe on stdout is written asynchronously: exit only once what --json wrote has been flushed.
  const exitAfterFlush = (code: number) => process.stdout.write('', () => process.exit(code));
  main(args).then(exitAfterFlush, (err: unknown) => {
    const msg = isWaitlabError(err) ? err.message : ((err as Error)?.stack ?? String(err));
    // Messages quote names and values from files and the system.
    process.stderr.write(`waitlab: ${terminalSafeLines(msg)}\n`);
    exitAfterFlush(exitCodeFor(err));
  });
}
