// `waitlab doctor --reproduce [--out FILE] [--run]`: reads the host as doctor does, writes a scenario of its shape,
// and with --run builds labs of that shape: the host as observed, then each fix, and says which cured it. The
// host is only read: nothing here writes a sysctl or opens a socket on it; the labs are namespaces of their own.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { LabUnavailableError, UsageError } from '../core/errors.ts';
import { trustedDirectory } from '../core/trusted-path.ts';
import { loadMatrixPlans, runMatrix, type MatrixEntry } from '../controller/run-matrix.ts';
import { labDriver } from '../lab/registry.ts';
import { currentPrivilege } from '../lab/privilege.ts';
import { writeWhole } from '../outputs/registry.ts';
import { loadPlan } from '../plan/load-plan.ts';
import type { Report } from '../report/report.ts';
import { HostWatcher } from './host-watcher.ts';
import { MIN_INTERVAL_MS } from './run-watch.ts';
import { judgeReproduction, type ReproduceOutcome } from './reproduce-check.ts';
import { candidateFixes, untestedFixes, type CandidateFix } from './reproduce-fixes.ts';
import { nothingToReproduce, observeHost, type ObservedHost } from './reproduce-observation.ts';
import { MAX_OBSERVED_BYTES, parseObservedHost } from './reproduce-observed-json.ts';
import { writeReproduction, type Reproduction } from './reproduce-scenario.ts';
import { nothingText, outcomeText, writtenText } from './reproduce-words.ts';
import { commandInTarget, type WatchTarget } from './watch-target.ts';

export interface ReproduceOptions {
  readonly target: WatchTarget;
  /** --for as given (passed on into a namespace) and in ms. */
  readonly forText: string;
  readonly forMs: number;
  readonly out?: string;
  readonly run: boolean;
  readonly json: boolean;
  readonly signal?: AbortSignal;
}

/** Doctor's two readings of the namespace this process runs in, forMs apart, kept as the reproduction needs them. */
export async function observeHere(host: string, forMs: number): Promise<ObservedHost> {
  if (!(forMs >= MIN_INTERVAL_MS)) throw new UsageError(`--for must be at least ${MIN_INTERVAL_MS / 1000} s`);
  const watcher = new HostWatcher(host);
  const before = (await watcher.next()).snapshot;
  await new Promise((r) => setTimeout(r, forMs));
  const after = (await watcher.next()).snapshot;
  return observeHost(before, after, forMs);
}

/** The same readings taken inside another namespace (waitlab doctor --observed-json under nsenter), checked here. */
function observeInTarget(target: Extract<WatchTarget, { path: string }>, forText: string): Promise<ObservedHost> {
  const [command, argv] = commandInTarget(target, ['doctor', '--for', forText, '--observed-json']);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  let size = 0;
  child.stdout.on('data', (b: Buffer) => {
    size += b.length;
    if (size <= MAX_OBSERVED_BYTES) chunks.push(b);
    else child.kill('SIGTERM');
  });
  return new Promise((ok, fail) => {
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) return fail(new LabUnavailableError(`the reader inside ${target.label} exited with ${code}`));
      try {
        ok(parseObservedHost(Buffer.concat(chunks).toString('utf8'), target.label));
      } catch (err) {
        fail(err);
      }
    });
  });
}

/** --out: a .ts file in a directory no other user can redirect (root may load what is written here). */
function writeScenarioFile(out: string, source: string): string {
  if (extname(out) !== '.ts') throw new UsageError(`--out ${out}: a scenario file ends in .ts`);
  const file = join(trustedDirectory(dirname(resolve(out))), basename(out));
  writeWhole(file, source);
  return file;
}

async function runLabs(
  r: Reproduction,
  fixes: readonly CandidateFix[],
  file: string,
  signal: AbortSignal | undefined,
): Promise<{ reports: Report[]; dir: string }> {
  const driver = labDriver('netns');
  const entries: MatrixEntry[] = [
    { label: 'as observed', overrides: {} },
    ...fixes.map((f) => ({
      label: f.label,
      overrides: f.overrides,
      ...(f.profile ? { profile: f.profile.name } : {}),
    })),
  ];
  const plans = await loadMatrixPlans(entries, (e) => {
    const fix = fixes.find((f) => f.label === e.label);
    return loadPlan(
      file,
      { ...e.overrides },
      { driver: driver.name, ...(fix?.profile ? { profile: fix.profile } : {}) },
    );
  });
  const reports: Report[] = [];
  const costs = Object.fromEntries(fixes.flatMap((f) => (f.profile?.cost ? [[f.profile.name, f.profile.cost]] : [])));
  process.stderr.write(
    `waitlab: ${entries.length} lab runs of ${r.name} (${entries.map((e) => e.label).join('; ')}), load ${r.loadSeconds} s each\n`,
  );
  const { dir } = await runMatrix(entries, plans, {
    driver,
    costs,
    ...(signal ? { signal } : {}),
    onRun: (i, e, report) => {
      reports.push(report);
      process.stderr.write(`  run ${i}/${entries.length} ${e.label}: done\n`);
    },
  });
  return { reports, dir };
}

export async function runReproduce(o: ReproduceOptions): Promise<number> {
  // The labs need the machine's root: an ordinary user's lab re-executes itself in a user namespace, whose own
  // network namespace is not the host doctor must read first.
  if (o.run && currentPrivilege() === 'user')
    throw new LabUnavailableError(
      'doctor --reproduce --run builds labs after reading the host: run it as root (sudo), or write the file without --run and run it with `waitlab scenario FILE`',
    );
  const observed =
    'path' in o.target ? await observeInTarget(o.target, o.forText) : await observeHere(o.target.label, o.forMs);
  if (nothingToReproduce(observed)) {
    if (o.json) process.stdout.write(`${JSON.stringify({ observed, nothingToReproduce: true })}\n`);
    else process.stderr.write(nothingText(observed));
    return 0;
  }
  const r = writeReproduction(observed);
  let file: string | null = o.out !== undefined ? writeScenarioFile(o.out, r.source) : null;
  if (file === null && o.run)
    file = writeScenarioFile(join(mkdtempSync(join(tmpdir(), 'waitlab-reproduce-')), `${r.name}.ts`), r.source);
  if (!o.json) process.stderr.write(writtenText(observed, r, o.out !== undefined ? file : null));
  if (o.out === undefined && !o.json) process.stdout.write(r.source);
  if (!o.run) {
    if (o.json)
      process.stdout.write(`${JSON.stringify({ observed, scenario: { name: r.name, file, source: r.source } })}\n`);
    return 0;
  }
  const fixes = candidateFixes(observed, r);
  const untested = untestedFixes(observed, r);
  const { reports, dir } = await runLabs(r, fixes, file!, o.signal);
  const outcome: ReproduceOutcome = judgeReproduction(r, fixes, reports);
  if (o.json)
    process.stdout.write(
      `${JSON.stringify({ observed, scenario: { name: r.name, file, source: r.source }, run: { dir, outcome, untested } })}\n`,
    );
  else
    process.stderr.write(`${o.out === undefined ? `scenario: ${file}\n` : ''}${outcomeText(outcome, untested, dir)}`);
  return outcome.reproduced && (fixes.length === 0 || outcome.smallest !== null) ? 0 : 1;
}

/** The inner half of --reproduce in another namespace: the readings, as JSON on stdout. */
export async function printObserved(host: string, forMs: number): Promise<number> {
  process.stdout.write(`${JSON.stringify(await observeHere(host, forMs))}\n`);
  return 0;
}
