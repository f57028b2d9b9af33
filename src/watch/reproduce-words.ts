// The words of `doctor --reproduce`: what the written scenario reproduces, how the lab compared with the host,
// which fix cured it and what it costs. Only this file writes sentences about a reproduction; it reads the typed
// outcome (reproduce-check.ts), never a report's text. Host-given text is shown escaped, never obeyed.
import { terminalSafe } from '../core/terminal-text.ts';
import { endpointText, type ObservedHost } from './reproduce-observation.ts';
import type { FixTried, FloodReproduced, ReproduceOutcome } from './reproduce-check.ts';
import { REPRODUCE_TOLERANCE } from './reproduce-check.ts';
import type { UntestedFix } from './reproduce-fixes.ts';
import type { Reproduction } from './reproduce-scenario.ts';
import { numberText } from '../core/number-text.ts';

const n = (v: number) => numberText(v, 1);
const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function nothingText(o: ObservedHost): string {
  return `waitlab doctor --reproduce: host ${terminalSafe(o.host)}, watched for ${n(o.watchedMs / 1000)} s: nothing to reproduce (no destination running out of ports, no CLOSE_WAIT growing, no listen queue overflowing)\n`;
}

export function writtenText(o: ObservedHost, r: Reproduction, file: string | null): string {
  const problems = [
    ...r.floods.map(
      (f) =>
        `the ports toward ${endpointText(f.destination.endpoint)} run out (${n(f.destination.connectRate)} new connections per second${f.destination.exhaustionMs !== null ? `; doctor: in ${s1(f.destination.exhaustionMs)}` : ''})`,
    ),
    ...(r.leak ? [`CLOSE_WAIT grows ${n(r.leak.perSecond)} per second (${r.leak.side} side)`] : []),
    ...(r.backlog ? ['a listen queue overflows'] : []),
  ];
  return (
    `waitlab doctor --reproduce: host ${terminalSafe(o.host)}, watched for ${n(o.watchedMs / 1000)} s\n` +
    problems.map((p) => `- ${p}\n`).join('') +
    `scenario ${r.name} (load ${r.loadSeconds} s): ${file === null ? 'on stdout' : terminalSafe(file)}\n`
  );
}

function floodLine(f: FloodReproduced): string {
  if (f.ranOutMs === null)
    return `toward ${f.destination}: the lab did not run out (0 of ${n(f.attempts)} connect() calls failed for want of a port): not reproduced`;
  const timing =
    f.doctorMs === null || f.labMs === null
      ? ''
      : `; from the host's ports held to the first failure it took ${s1(f.labMs)}, doctor predicted ${s1(f.doctorMs)} for the host (lab / doctor ${f.ratio}, ${f.ratio !== null && Math.abs(f.ratio - 1) <= REPRODUCE_TOLERANCE ? 'within' : 'outside'} ${REPRODUCE_TOLERANCE * 100}%)`;
  return `toward ${f.destination}: EADDRNOTAVAIL as on the host, ${n(f.noPort)} of ${n(f.attempts)} connect() calls, the first at ${s1(f.ranOutMs)}${timing}: ${f.reproduced ? 'reproduced' : 'not reproduced'}`;
}

function fixLine(t: FixTried): string {
  const failed = t.floods.map((f) => `${n(f.noPort)} of ${n(f.attempts)}`).join(', ');
  const verdict = t.cured
    ? 'cured'
    : t.postponedToMs !== null
      ? `postponed only: at this rate its budget still runs out after ${s1(t.postponedToMs)}, beyond this run`
      : 'not cured';
  return `${t.fix.label}: ${failed} connect() calls failed for want of a port: ${verdict}`;
}

function smallestText(out: ReproduceOutcome): string {
  const best = out.smallest;
  if (!best) return 'no fix tried cured it in the lab\n';
  const attempts = best.floods.reduce((s, f) => s + f.attempts, 0);
  const ranOut = out.reference.floods.map((f) => f.ranOutMs).filter((v): v is number => v !== null);
  const without = ranOut.length ? ` (it ran out at ${s1(Math.min(...ranOut))} without it)` : '';
  const where = best.fix.changes === 'sysctl' ? 'on this host' : 'in the application';
  const how =
    best.fix.changes === 'sysctl'
      ? `  doctor changes nothing; to make it, as root:\n${best.fix.change.map((l) => `    sysctl -w ${l.replace(' = ', '=')}\n`).join('')}  and to keep it, in a file of /etc/sysctl.d/:\n${best.fix.change.map((l) => `    ${l}\n`).join('')}`
      : best.fix.change.map((l) => `  ${l}\n`).join('');
  return `smallest change that cured it: ${best.fix.label} ${where}: 0 of ${n(attempts)} EADDRNOTAVAIL in a lab of this host's shape${without}; cost: ${best.fix.cost}\n${how}`;
}

export function outcomeText(out: ReproduceOutcome, untested: readonly UntestedFix[], dir: string): string {
  const ref = out.reference;
  const lines = [
    `lab of this host's shape (${terminalSafe(dir)}):`,
    ...ref.floods.map((f) => `  ${floodLine(f)}`),
    ...(ref.leak
      ? [
          `  CLOSE_WAIT on the lab's host: ${n(ref.leak.labCount)} when the load ended, ${n(ref.leak.labPerSecond)} per second against the host's ${n(ref.leak.hostPerSecond)} (lab / host ${ref.leak.ratio}): ${ref.leak.reproduced ? 'reproduced' : 'not reproduced'}`,
        ]
      : []),
    ...(ref.backlog
      ? [
          `  listen queue: TcpExt.ListenOverflows +${n(ref.backlog.listenOverflows)} in the lab: ${ref.backlog.reproduced ? 'reproduced' : 'not reproduced'}`,
        ]
      : []),
    out.reproduced
      ? 'the lab fails the way the host does'
      : 'the lab does not fail the way the host does: the fixes below say little about the host',
    ...(out.fixes.length ? ['fixes tried, smallest change first:', ...out.fixes.map((t) => `  ${fixLine(t)}`)] : []),
  ];
  const tail = out.fixes.length ? smallestText(out) : '';
  const notTested = untested.length
    ? `not tested in a lab:\n${untested.map((u) => `  - ${u.change}: ${u.why}\n`).join('')}`
    : '';
  return `${lines.join('\n')}\n${tail}${notTested}`;
}
