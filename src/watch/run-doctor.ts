// `waitlab doctor`: two snapshots of the namespace this process runs in, `forMs` apart, and the findings
// they support. Exit 1 when something is near a limit, so it can run from cron or a health check.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { terminalSafe } from '../core/terminal-text.ts';
import { diagnose, type DoctorFinding, type SysctlConfLine } from './diagnosis.ts';
import { HostWatcher } from './host-watcher.ts';
import { MIN_INTERVAL_MS } from './run-watch.ts';
import type { Snapshot } from './snapshot.ts';
import { numberText } from '../core/number-text.ts';

export interface DoctorOptions {
  readonly host: string;
  readonly forMs: number;
  readonly json: boolean;
}

export interface Diagnosis {
  readonly host: string;
  readonly nearLimit: boolean;
  readonly findings: readonly DoctorFinding[];
  readonly snapshot: Snapshot;
}

/** The files sysctl --system reads that an administrator writes (read only, for settings that no longer exist). */
function sysctlConfLines(): SysctlConfLine[] {
  const files = ['/etc/sysctl.conf'];
  try {
    files.push(
      ...readdirSync('/etc/sysctl.d')
        .filter((f) => f.endsWith('.conf'))
        .sort()
        .map((f) => join('/etc/sysctl.d', f)),
    );
  } catch {
    // no /etc/sysctl.d
  }
  const out: SysctlConfLine[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    text.split('\n').forEach((line, i) => out.push({ file, line: i + 1, text: line }));
  }
  return out;
}

export async function runDoctor(o: DoctorOptions): Promise<number> {
  if (!(o.forMs >= MIN_INTERVAL_MS)) throw new UsageError(`--for must be at least ${MIN_INTERVAL_MS / 1000} s`);
  const watcher = new HostWatcher(o.host);
  const before = (await watcher.next()).snapshot;
  await new Promise((r) => setTimeout(r, o.forMs));
  const after = (await watcher.next()).snapshot;
  const findings = diagnose(before, after, sysctlConfLines());
  const diagnosis: Diagnosis = {
    host: o.host,
    nearLimit: findings.some((f) => f.nearLimit),
    findings,
    snapshot: after,
  };
  if (o.json) process.stdout.write(`${JSON.stringify(diagnosis)}\n`);
  else process.stderr.write(doctorText(diagnosis, o.forMs, Math.max(60, Math.min(120, process.stderr.columns || 100))));
  return diagnosis.nearLimit ? 1 : 0;
}

/** Words into lines of at most `width` characters, each line after the first indented by `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

/** The diagnosis for a terminal: process names, host names and file lines in it are shown escaped, never obeyed. */
export function doctorText(d: Diagnosis, forMs: number, width: number): string {
  const s = d.snapshot;
  const head = `waitlab doctor: host ${terminalSafe(d.host)}, ${numberText(s.sockets)} TCP socket${s.sockets === 1 ? '' : 's'}, watched for ${forMs / 1000} s\n`;
  // Commands stay whole, one per line, so that they can be copied.
  const body = d.findings
    .map(
      (f) =>
        `${wrap(`${f.nearLimit ? '!' : '-'} ${terminalSafe(f.text)}`, width, '  ')}\n${(f.reproduce ?? []).map((c) => `    ${terminalSafe(c)}\n`).join('')}`,
    )
    .join('');
  const near = d.findings.filter((f) => f.nearLimit).length;
  return `${head}${body}${near > 0 ? `near a limit: ${near} finding${near > 1 ? 's' : ''} marked ! (exit 1)` : 'nothing near a limit (exit 0)'}\n`;
}
