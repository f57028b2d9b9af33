// The prediction matrix (issue 21): short-conn over rate x port range x tcp_tw_reuse (and its delay) x closer,
// 24 short real runs. In each, every prediction that applies must hold within 20%: the first EADDRNOTAVAIL, the
// sustainable rate under tcp_tw_reuse, and the TIME_WAIT peak. The table of this run is written to
// docs/prediction-matrix.md. Loads of 2 s: a whole number of tcp_tw_reuse_delay (500 ms, 1,000 ms), so the
// sustainable rate averaged over the load is the one the ports allow.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { runScenario } from '../../src/controller/run-scenario.ts';
import type { Report } from '../../src/report/report.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const DURATION_MS = 2000;
const RATES = [150, 300];
const RANGES = ['50000-50199', '50000-50399'];
/** tcp_tw_reuse and its delay in ms (the delay only where reuse is on). */
const REUSE: [number, number][] = [
  [0, 1000],
  [1, 1000],
  [1, 500],
];
const CLOSERS = ['client', 'server'] as const;
const TOLERANCE = 0.2;

interface Row {
  label: string;
  firstFailure: string;
  sustainable: string;
  timeWait: string;
  problems: string[];
}

const rows: Row[] = [];
const started = Date.now();
const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toLocaleString('en-US'));
const within = (ratio: number | null) => ratio !== null && Math.abs(ratio - 1) <= TOLERANCE;

/** Each prediction of a run against what it measured; a problem per prediction outside the tolerance. */
function check(label: string, report: Report): Row {
  const p = report.predictions['flood']!;
  const problems: string[] = [];
  const e = p.exhaustion;
  let firstFailure = '-';
  if (e && e.predictedMs !== null && e.predictedMs <= DURATION_MS * (1 - TOLERANCE)) {
    firstFailure = `${fmt(e.predictedMs)} / ${fmt(e.measuredMs)} ms`;
    if (!within(e.ratio)) problems.push(`first failure predicted ${e.predictedMs} ms, measured ${e.measuredMs}`);
  } else if (e && (e.predictedMs === null || e.predictedMs >= DURATION_MS * (1 + TOLERANCE))) {
    // None predicted within the load: none may come.
    firstFailure = `none / ${e.measuredMs === null ? 'none' : `${fmt(e.measuredMs)} ms`}`;
    if (e.measuredMs !== null) problems.push(`no failure predicted within the load, first at ${e.measuredMs} ms`);
  }
  const s = p.sustainableRate;
  let sustainable = '-';
  if (s) {
    sustainable = `${fmt(s.predicted)} / ${s.measured === null ? `offered ${fmt(s.offered)}` : fmt(s.measured)} per s`;
    if (s.measured !== null && !within(s.ratio))
      problems.push(`sustainable rate predicted ${s.predicted}/s, measured ${s.measured}/s`);
  }
  const tw = p.timeWait!;
  const timeWait = `${fmt(tw.predicted)} / ${fmt(tw.measured)} on ${tw.host}`;
  if (tw.predicted !== null && tw.predicted > 0 && !within(tw.ratio))
    problems.push(`TIME_WAIT peak predicted ${tw.predicted}, measured ${tw.measured}`);
  if (tw.predicted === null) problems.push(`no TIME_WAIT prediction: ${tw.basis}`);
  return { label, firstFailure, sustainable, timeWait, problems };
}

describe('prediction matrix: short-conn', () => {
  afterAll(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    const lines = [
      '# Prediction matrix',
      '',
      `Written by test/slow/prediction-matrix.test.ts (\`npm run test:slow -- prediction-matrix\`) from the ${rows.length} runs it made on ${new Date().toISOString().slice(0, 10)}, in ${seconds} s:`,
      `short-conn for ${DURATION_MS / 1000} s, open model, predicted / measured; every prediction that applies must hold within ${TOLERANCE * 100}%.`,
      'The first failure is the first EADDRNOTAVAIL after the load began ("none": none predicted within the load, and none came);',
      'the sustainable rate under tcp_tw_reuse is ports / tcp_tw_reuse_delay, measured as connections per s over the load where the offered rate exceeded it;',
      'the TIME_WAIT peak is on the host that closes first, toward (or from) the other end.',
      '',
      '| run | first failure | sustainable rate | TIME_WAIT peak | within 20% |',
      '|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.label} | ${r.firstFailure} | ${r.sustainable} | ${r.timeWait} | ${r.problems.length ? `no: ${r.problems.join('; ')}` : 'yes'} |`,
      ),
      '',
    ];
    writeFileSync(new URL('../../docs/prediction-matrix.md', import.meta.url), lines.join('\n'));
  });

  for (const rate of RATES) {
    for (const ports of RANGES) {
      for (const [reuse, delay] of REUSE) {
        for (const closer of CLOSERS) {
          // With the server closing first the client holds no TIME_WAIT: tcp_tw_reuse has nothing to act on.
          const label = `${rate}/s, ports ${ports}, tcp_tw_reuse=${reuse}${reuse ? ` delay ${delay} ms` : ''}, ${closer} closes`;
          it(label, async () => {
            const plan = await loadPlan(
              'short-conn',
              { rate: `${rate}/s`, ports, twReuse: String(reuse), closer, duration: `${DURATION_MS}ms` },
              { sysctls: [`client:net.ipv4.tcp_tw_reuse_delay=${delay}`] },
            );
            const { report } = await runScenario(plan, { outDir: tempDir() });
            const row = check(label, report);
            rows.push(row);
            expect(row.problems).toEqual([]);
          });
        }
      }
    }
  }
});
