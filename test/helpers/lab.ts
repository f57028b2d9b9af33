// Helpers for tests that build real labs and look at what the kernel and the process table say.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { loadPlan, resolvePlan } from '../../src/plan/load-plan.ts';
import type { Report } from '../../src/report/report.ts';
import { contradictions } from '../../src/report/truth-check.ts';
import { defineScenario, type HostSpec, type ScenarioSpec } from '../../src/core/scenario.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { netnsDriver } from '../../src/lab/netns-driver.ts';
import { tempDir } from './temp-dir.ts';

export { tempDir };

export const BIN = resolve(PACKAGE_ROOT, 'bin/waitlab.js');
const TS_LOADER = resolve(PACKAGE_ROOT, 'test/helpers/typescript-loader.mjs');

/** A lab of hosts and no actors, for tests that run their own programs inside. */
export async function buildLab(hosts: Record<string, HostSpec>, family?: ScenarioSpec['family']): Promise<Lab> {
  const plan = resolvePlan(
    defineScenario({
      name: 'test-lab',
      description: 'test',
      params: {},
      build: () => ({ hosts, actors: {}, ...(family ? { family } : {}) }),
    }),
    'test',
    {},
  );
  return netnsDriver.build(plan, () => undefined);
}

/** Runs a TypeScript helper of test/helpers inside a lab host and returns its stdout. */
export function nodeInHost(lab: Lab, host: string, script: string, args: string[] = []): string {
  return execFileSync(
    'ip',
    [
      'netns',
      'exec',
      lab.hosts[host]!.location,
      process.execPath,
      '--import',
      TS_LOADER,
      resolve(PACKAGE_ROOT, 'test/helpers', script),
      ...args,
    ],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
}

export function inHost(lab: Lab, host: string, command: string, args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', lab.hosts[host]!.location, command, ...args], { encoding: 'utf8' });
}

/** Lab namespaces on the machine, optionally only those of one controller pid. */
export function labNamespaces(pid?: number): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((ns) => (pid === undefined ? /^wl\d+n\d+-/ : new RegExp(`^wl${pid}n\\d+-`)).test(ns));
}

/**
 * Lab namespaces that were not there in `before` and whose controller is gone: what a finished command left behind.
 * Labs of another live run on the machine (a developer's, a parallel job's) are not counted.
 */
export function labsLeftSince(before: readonly string[]): string[] {
  return labNamespaces().filter((ns) => !before.includes(ns) && !existsSync(`/proc/${/^wl(\d+)n/.exec(ns)![1]}`));
}

/** Pids of running agent processes of the labs of one controller pid (any lab without one). */
export function agentPids(controllerPid?: number): number[] {
  const out: number[] = [];
  const lab = controllerPid === undefined ? /\0wl\d+n\d+-/ : new RegExp(`\\0wl${controllerPid}n\\d+-`);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('dist/agent/main.js') && lab.test(cmdline)) out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Interface names in the namespace this test runs in: the lab must never add one here. */
export function hostLinks(): string[] {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1]!.trim().split('@')[0]!)
    .sort();
}

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

export function runCli(args: string[], options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    env: options.env ?? process.env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exit: new Promise((r) => child.on('exit', (code) => r(code))),
  };
}

/** Polls until check() is truthy; counts tries, so no wall-clock assertion hides in it. */
export async function until<T>(
  check: () => T | undefined | false,
  what: string,
  tries = 300,
  everyMs = 100,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * A report as tests read it: the JSON a run wrote, with actor entries open to any stat. Tests assert what the
 * kernel and the actors said; the typed union (report/report.ts) is for the code that builds sentences.
 */
export type TestReport = Omit<Report, 'actors'> & {
  actors: Record<string, Record<string, any> & { kind: string; host: string }>;
};

/**
 * Runs a catalogue scenario (or a scenario file) with --set style overrides, in a fresh temporary run directory.
 * Every claim of every finding of the run's report must pass the truth check: a lab test never gets a report
 * whose findings contradict its own evidence.
 */
export async function runShort(
  scenario: string,
  overrides: Record<string, string> = {},
): Promise<{ report: TestReport; dir: string }> {
  const { report, dir } = await runScenario(await loadPlan(scenario, overrides), { outDir: tempDir() });
  const wrong = contradictions(report);
  if (wrong.length)
    throw new Error(
      `the report of ${scenario} contradicts its own evidence (kept in ${dir}):\n${wrong.map((c) => `finding ${c.finding}: ${c.claim}: ${c.evidence}`).join('\n')}`,
    );
  return { report: report as TestReport, dir };
}

/**
 * Whether user nobody (65534) can read this checkout's CLI and its node_modules: not where the checkout lies
 * under a 0700 directory (what `mktemp -d` makes). The rootless tests run the CLI as nobody and need it.
 */
export function nobodyCanRunCheckout(): boolean {
  try {
    execFileSync(
      process.execPath,
      [
        '-e',
        'require("fs").accessSync(process.argv[1]); require("fs").accessSync(process.argv[2])',
        BIN,
        resolve(PACKAGE_ROOT, 'node_modules/yargs/package.json'),
      ],
      { uid: 65534, gid: 65534, stdio: 'ignore', cwd: '/' },
    );
    return true;
  } catch {
    return false;
  }
}

/** Starts short-conn through the CLI and waits until its load runs; returns the run and the pid of `host`'s agent. */
export async function shortConnUnderLoad(
  duration: string,
  host: 'client' | 'server',
): Promise<{ cli: CliRun; dir: string; agent: number }> {
  const dir = resolve(tempDir(), 'run');
  const cli = runCli([
    'scenario',
    'short-conn',
    '--set',
    `duration=${duration}`,
    '--set',
    'rate=50/s',
    '--out',
    dir,
    '--no-progress',
  ]);
  const pid = cli.child.pid!;
  // An agent's command line ends with its namespace, <lab>-<host>.
  const agent = await until(
    () => agentPids(pid).find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`-${host}`)),
    `the ${host} agent`,
  );
  await until(
    () =>
      existsSync(resolve(dir, 'samples.ndjson')) &&
      readFileSync(resolve(dir, 'samples.ndjson'), 'utf8').includes('"type":"stats"'),
    'the load to start',
  );
  return { cli, dir, agent };
}

/** A process neither gone nor a zombie waiting to be reaped (its parent was killed). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of the running children of `parent` whose command name (/proc/<pid>/comm) is `comm`: tcpdump of a run's captures. */
export function childrenNamed(parent: number, comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue;
      const ppid = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (Number(ppid) === parent) out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}
