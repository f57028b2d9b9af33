// Matching a path into report.json (a threshold's) or a path pattern (a tolerance's, segments may be `*`)
// against the metric registry: which metric it names, or why it names none, before any lab is built.
import { closestName } from './closest-name.ts';
import { isInheritedName } from './own-keys.ts';
import { METRICS, NOT_METRICS, PLACEHOLDERS, type MetricDef, type Placeholder } from './metric-registry.ts';

/** The names a placeholder may take in this plan: its hosts and actors, the kernel's TCP states, the actors' stats. */
export interface MetricNames {
  readonly host: readonly string[];
  readonly actor: readonly string[];
  readonly state: readonly string[];
  /** What an actor's entry may hold: a stat's first segment is one of these (restart.tries, firstError.atMs). */
  readonly stat: readonly string[];
}

type Segment = { literal: string } | { placeholder: Placeholder };

const parsed = new Map<string, Segment[]>();
function segmentsOf(def: MetricDef): Segment[] {
  let out = parsed.get(def.path);
  if (!out) {
    out = def.path.split('.').map((s) => {
      const name = /^\{(\w+)\}$/.exec(s)?.[1];
      return name ? { placeholder: PLACEHOLDERS[name]! } : { literal: s };
    });
    parsed.set(def.path, out);
  }
  return out;
}

function nameFits(p: Placeholder, name: string, names: MetricNames | undefined): boolean {
  if (name === '*') return true;
  if (isInheritedName(name)) return false;
  if (p.names instanceof RegExp) return p.names.test(name);
  // Without the plan's names (a report read later), any name of a plan-given kind fits.
  if (!names) return p.dotted ? /^\S/.test(name) : /^[\w-]+$/.test(name);
  if (p.names !== 'stat') return names[p.names].includes(name);
  const [first, ...rest] = name.split('.');
  // Inside a stat that metrics of its own declare (errors.<code>.count, latencyMs.<p>), only they may name a path.
  return names.stat.includes(first!) && !(rest.length > 0 && declaredWithin().has(first!));
}

let within: Set<string> | undefined;
/** The actor stats whose insides the registry declares itself (errors, latencyMs, statuses, errorLog, terminations). */
function declaredWithin(): Set<string> {
  within ??= new Set(
    METRICS.map((d) => d.path.split('.'))
      .filter((parts) => parts[0] === 'actors' && parts.length > 3 && !parts[2]!.startsWith('{'))
      .map((parts) => parts[2]!),
  );
  return within;
}

/** What was expected where a path stopped matching, for the refusal. */
interface Miss {
  at: number;
  expected: Segment;
  /** What the path's previous segment names: "census", "host". */
  after: string | undefined;
}

const labelOf = (s: Segment | undefined) =>
  s === undefined ? undefined : 'literal' in s ? s.literal : s.placeholder.label;

/** A placeholder of a matched path and the name it took: `{host}` = "client". */
export interface BoundName {
  readonly placeholder: string;
  readonly value: string;
}

/** Whether `path` (split) is an instance of `def`; the deepest miss where it is not. `bound` receives the names of a match. */
function matchDef(
  segs: readonly Segment[],
  parts: readonly string[],
  names: MetricNames | undefined,
  bound: BoundName[] = [],
): true | Miss {
  let deepest: Miss = { at: -1, expected: segs[0]!, after: undefined };
  const walk = (i: number, j: number): boolean => {
    if (i === segs.length) return j === parts.length;
    if (j === parts.length) {
      if (j > deepest.at) deepest = { at: j, expected: segs[i]!, after: labelOf(segs[i - 1]) };
      return false;
    }
    const seg = segs[i]!;
    if ('literal' in seg) {
      if (parts[j] === seg.literal || parts[j] === '*') return walk(i + 1, j + 1);
      if (j > deepest.at) deepest = { at: j, expected: seg, after: labelOf(segs[i - 1]) };
      return false;
    }
    // A dotted name may span the rest of the path but for the segments the pattern still needs after it.
    const most = seg.placeholder.dotted && parts[j] !== '*' ? parts.length - j - (segs.length - i - 1) : 1;
    for (let k = Math.max(most, 1); k >= 1; k--) {
      const value = parts.slice(j, j + k).join('.');
      if (!nameFits(seg.placeholder, value, names)) continue;
      bound.push({ placeholder: seg.placeholder.label, value });
      if (walk(i + 1, j + k)) return true;
      bound.pop();
    }
    if (j > deepest.at) deepest = { at: j, expected: seg, after: labelOf(segs[i - 1]) };
    return false;
  };
  return walk(0, 0) || deepest;
}

/** The metric a concrete path or pattern names, first declared first; undefined where none does. */
export function metricOf(path: string, names?: MetricNames): MetricDef | undefined {
  const parts = path.split('.');
  return METRICS.find((def) => matchDef(segmentsOf(def), parts, names) === true);
}

/** The metric a concrete path names and the names its placeholders took there, in path order. */
export function bindMetric(
  path: string,
  names?: MetricNames,
): { def: MetricDef; bound: readonly BoundName[] } | undefined {
  const parts = path.split('.');
  for (const def of METRICS) {
    const bound: BoundName[] = [];
    if (matchDef(segmentsOf(def), parts, names, bound) === true) return { def, bound };
  }
  return undefined;
}

function known(expected: readonly Segment[], names: MetricNames | undefined): string {
  const words = new Set<string>();
  for (const s of expected) {
    if ('literal' in s) words.add(s.literal);
    else if (s.placeholder.names instanceof RegExp) words.add(s.placeholder.form ?? s.placeholder.label);
    else if (names) for (const n of names[s.placeholder.names]) words.add(n);
  }
  return [...words].join(', ');
}

/**
 * A problem with `path` as a threshold ('threshold': must be in report.json) or a tolerance pattern
 * ('tolerance': may name a metric derived for comparisons); undefined when it names a metric.
 */
export function metricPathProblem(
  path: string,
  names: MetricNames,
  use: 'threshold' | 'tolerance',
): string | undefined {
  const parts = path.split('.');
  const top = parts[0] ?? '';
  if (Object.hasOwn(NOT_METRICS, top)) return `${path}: ${top} holds no metric of the run: ${NOT_METRICS[top]}`;
  const tops = [...new Set(METRICS.map((d) => d.path.split('.')[0]!))];
  if (!tops.includes(top)) return `${path}: a report path starts with ${tops.join(', ')}`;
  const misses: Miss[] = [];
  for (const def of METRICS) {
    const r = matchDef(segmentsOf(def), parts, names);
    if (r !== true) {
      misses.push(r);
      continue;
    }
    if (use === 'threshold' && def.derived)
      return `${path}: ${def.label} is derived for comparisons with a baseline, not written into report.json: no threshold can read it (a tolerance can name it)`;
    return undefined;
  }
  // A metric with more after it (errors.{code}.count where the replicas' errors.{code} is the count itself).
  for (let k = parts.length - 1; k >= 2; k--) {
    const prefix = parts.slice(0, k).join('.');
    const def = metricOf(prefix, names);
    // Not the catch-all of an actor kind's stats: there a misspelt figure (latencyMs.p99x) is told as one.
    if (def && !def.path.endsWith('{stat}') && !(use === 'threshold' && def.derived))
      return `${path}: ${prefix} is a metric itself (${def.label}, ${def.unit}); drop ".${parts.slice(k).join('.')}"`;
  }
  const at = Math.max(...misses.map((x) => x.at));
  const deepest = misses.filter((x) => x.at === at);
  const first = deepest[0]!;
  const seg = parts[at];
  if (seg === undefined)
    return `${path}: ends at ${first.after ?? top}; a metric goes on with one of: ${known(
      deepest.map((x) => x.expected),
      names,
    )}`;
  const placeholder = deepest.find((x) => 'placeholder' in x.expected)?.expected;
  // A literal beside a placeholder at one depth is a special case of it (peak.total.TIME_WAIT, peak.total.{state}).
  const what = placeholder && 'placeholder' in placeholder ? placeholder.placeholder.label : `part of ${first.after}`;
  const candidates = known(
    deepest.map((x) => x.expected),
    names,
  );
  const nearNames = deepest.flatMap((x) => ('placeholder' in x.expected ? (x.expected.placeholder.near ?? []) : []));
  const near = closestName(seg, [...candidates.split(', '), ...nearNames]);
  return `${path}: no ${what} "${seg}"${near ? ` (did you mean ${near}?)` : ''} (known: ${candidates})`;
}

/**
 * A metric's name for people, from the registry: the host or actor it belongs to, its label with the other names
 * its path gave (an error code, a counter), and its unit: "client: peak TIME_WAIT (sockets)",
 * "flood: errors by code EADDRNOTAVAIL (errors)". undefined where the path names no declared metric.
 */
export function metricTitle(path: string): string | undefined {
  const found = bindMetric(path);
  if (!found) return undefined;
  const { def, bound } = found;
  const owner = (b: BoundName) =>
    b.placeholder === PLACEHOLDERS.host!.label || b.placeholder === PLACEHOLDERS.actor!.label;
  const owners = bound.filter(owner).map((b) => b.value);
  const what = [def.label, ...bound.filter((b) => !owner(b)).map((b) => b.value)].join(' ');
  // A kind's own stat has no unit the registry knows.
  const unit = def.path.endsWith('.{stat}') ? '' : ` (${def.unit})`;
  return `${owners.length ? `${owners.join('/')}: ` : ''}${what}${unit}`;
}
