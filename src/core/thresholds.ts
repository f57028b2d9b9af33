// Thresholds: "<path into report.json> <op> <number>". A missing metric fails (unlike k6, where it passes), but for
// one written only once seen (an error code, a termination state): where its actor's list is there, none was seen.
import { InvalidValueError } from './errors.ts';
import { metricOf } from './metric-paths.ts';

export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Threshold {
  readonly expression: string;
  readonly path: string;
  readonly op: ThresholdOp;
  readonly target: number;
}

export interface ThresholdResult {
  readonly expression: string;
  /** The value read from the report, or null when the metric is missing. */
  readonly value: number | null;
  readonly ok: boolean;
  readonly reason?: string;
}

const EXPR = /^\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/;

export function parseThreshold(expression: string): Threshold {
  const m = EXPR.exec(expression);
  if (!m) throw new InvalidValueError(`"${expression}" is not "<path> <op> <number>" (op: < <= > >= == !=)`);
  const target = Number(m[3]);
  if (!Number.isFinite(target)) throw new InvalidValueError(`"${expression}": ${m[3]} is not a finite number`);
  return { expression, path: m[1]!, op: m[2] as ThresholdOp, target };
}

/**
 * Follows a dotted path. Some keys hold dots themselves (counters such as "Tcp.ActiveOpens"): where a
 * segment is not a key, it is joined with the next ones until one is.
 */
export function readPath(root: unknown, path: string): unknown {
  const parts = path.split('.');
  let node = root;
  for (let i = 0; i < parts.length; i++) {
    if (node === null || typeof node !== 'object') return undefined;
    let key = parts[i]!;
    while (!Object.hasOwn(node, key) && i + 1 < parts.length) key += `.${parts[++i]}`;
    if (!Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * 0 for a seen-only metric (core/metric-registry.ts) that the report lacks while the list it would be in is there
 * (`actors.flood.errors` without EADDRNOTAVAIL: the flood had none); undefined otherwise (no such actor: missing).
 */
function unseenAsZero(report: unknown, path: string): number | undefined {
  const def = metricOf(path);
  if (!def?.seenOnly) return undefined;
  // The list is the path up to the seen-only name's segment ({code}, {termination}); names before it take one segment.
  const at = def.path.split('.').findIndex((s) => s === '{code}' || s === '{termination}');
  if (at < 1) return undefined;
  const list = readPath(report, path.split('.').slice(0, at).join('.'));
  return list !== null && typeof list === 'object' ? 0 : undefined;
}

function compare(a: number, op: ThresholdOp, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

export function evaluateThresholds(report: unknown, expressions: readonly string[]): ThresholdResult[] {
  return expressions.map((expression) => {
    const t = parseThreshold(expression);
    const value = readPath(report, t.path) ?? unseenAsZero(report, t.path);
    if (typeof value !== 'number' || Number.isNaN(value)) {
      return {
        expression,
        value: null,
        ok: false,
        reason: value === undefined ? 'metric missing from the report' : `not a number: ${JSON.stringify(value)}`,
      };
    }
    return { expression, value, ok: compare(value, t.op, t.target) };
  });
}
