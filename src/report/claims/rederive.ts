// A claim's number, derived again from report.json alone (its evidence, and the plan it keeps): the truth check
// compares it with what the claim says, and the rules take their numbers from it (claims/measure.ts).
import type { Plan } from '../../core/plan.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import type { Report } from '../report.ts';
import { loadWindow, stateAt } from '../findings/load-window.ts';
import type { Claim, EvidenceRef, ModelField } from './claim.ts';

/** What evidence is read from: the run's plan and its report. */
export interface EvidenceSource {
  readonly plan: Plan;
  readonly report: Pick<Report, 'hosts' | 'actors'> & Partial<Pick<Report, 'predictions' | 'captures'>>;
}

/** A number nested in `value` under `key`, or undefined. */
function nested(value: unknown, key: readonly string[]): unknown {
  let v = value;
  for (const k of key)
    v = typeof v === 'object' && v !== null && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function modelValue(plan: Plan, actor: string, field: ModelField): number | undefined {
  const model = connectionsOf(plan.actors[actor]);
  switch (field) {
    case 'backlog':
      return model.accepts?.backlog;
    case 'acceptAfterMs':
      return model.accepts?.acceptAfterMs;
    case 'ratePerSec':
      return model.load?.model === 'open' ? model.load.ratePerSec : undefined;
    case 'count':
      return model.load?.count;
    case 'nofile':
      return model.nofile;
    case 'pool': {
      const per = model.dials[0]?.perRequest;
      return per?.pooled ? per.connections : undefined;
    }
  }
}

/** One ref's value, or a reason it cannot be read (a host, actor, stat or setting the report does not have). */
export function evidenceValue(source: EvidenceSource, ref: EvidenceRef): number | string {
  const { plan, report } = source;
  const number = (v: unknown, what: string) => (typeof v === 'number' && Number.isFinite(v) ? v : what);
  switch (ref.from) {
    case 'actor-stat': {
      const entry = report.actors[ref.actor] as unknown as Record<string, unknown> | undefined;
      const found = nested(entry, [ref.stat, ...(ref.key ?? [])]);
      // A count by name (errors by code, statuses, causes) lists only what happened: a name it lacks counted 0.
      const map = nested(entry, [ref.stat]);
      if (
        found === undefined &&
        ref.key?.length &&
        typeof map === 'object' &&
        map !== null &&
        !Object.hasOwn(map, ref.key[0]!)
      )
        return 0;
      return number(found, `actor ${ref.actor} reported no ${[ref.stat, ...(ref.key ?? [])].join('.')}`);
    }
    case 'load-window': {
      const w = loadWindow({ plan, report });
      if (!w) return 'no load actor reported when it ran';
      return ref.edge === 'start' ? w.startMs : ref.edge === 'end' ? w.endMs : w.endMs - w.startMs;
    }
    case 'prediction':
      return number(
        nested(report.predictions?.[ref.actor], [ref.kind, ref.field]),
        `the report has no prediction ${ref.actor}.${ref.kind}.${ref.field}`,
      );
    case 'model':
      return number(
        modelValue(plan, ref.actor, ref.field),
        `actor ${ref.actor}'s connection model has no ${ref.field}`,
      );
    default:
  }
  if (ref.from === 'capture-frames') return captureCount(report, ref);
  const host = report.hosts[ref.host];
  if (!host) return `the report has no host ${ref.host}`;
  switch (ref.from) {
    case 'counter':
      return host.counters.delta[ref.counter] ?? 0;
    case 'peer-peak':
      return host.peak.peers[ref.role][ref.peer]?.[ref.state] ?? 0;
    case 'host-peak':
      return host.peak.total[ref.state];
    case 'sockstat-tw':
      return host.peak.sockstatTw;
    case 'conntrack-peak':
      return host.conntrack?.entriesPeak ?? `host ${ref.host} has no conntrack record`;
    // A budget is configuration (a range of sysctls, or a proxy's own source ports), stated with the claim.
    case 'port-budget':
      return ref.ports;
    case 'host-final':
      return host.final[ref.state];
    case 'split-peak':
      return number(
        host.peak.split?.[ref.state]?.[ref.role],
        `host ${ref.host}'s report has no split of its ${ref.state} peak`,
      );
    case 'peak-time':
      return host.peak.atMs[ref.state] ?? 0;
    case 'last-sample':
      return host.series.t.at(-1) ?? 0;
    case 'series-at': {
      const w = loadWindow({ plan, report });
      return w
        ? stateAt(host, ref.state, ref.at === 'load-start' ? w.startMs : w.endMs)
        : 'no load actor reported when it ran';
    }
    case 'sysctl': {
      const v = host.sysctls[ref.name];
      return v === undefined || v === '' || !Number.isFinite(Number(v))
        ? `host ${ref.host} read back no number for ${ref.name}`
        : Number(v);
    }
    case 'host-limit':
      return number(
        plan.hosts[ref.host]?.limits?.[ref.limit],
        `the plan sets no ${ref.limit} limit on host ${ref.host}`,
      );
  }
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function captureCount(
  report: EvidenceSource['report'],
  ref: Extract<EvidenceRef, { from: 'capture-frames' }>,
): number | string {
  const evidence = report.captures?.find((c) => c.host === ref.host)?.evidence;
  if (!evidence) return `the report has no packet evidence of host ${ref.host}`;
  if (ref.count === 'lateWrites') return evidence.lateWrites.count;
  if (ref.count === 'lateWritesReset') return evidence.lateWrites.answeredByRst;
  const peer = ref.peer === undefined ? undefined : evidence.byPeer[ref.peer];
  return peer ? peer[ref.count] : `host ${ref.host}'s capture has no connections with ${ref.peer ?? 'an unnamed peer'}`;
}

/** The value the claim's evidence gives, or the reasons it gives none. */
export function rederive(
  source: EvidenceSource,
  claim: Omit<Claim, 'value'>,
): { value: number } | { unreadable: string[] } {
  const read = (refs: readonly EvidenceRef[] = []) => refs.map((r) => evidenceValue(source, r));
  const parts = {
    plus: read(claim.plus),
    minus: read(claim.minus),
    cap: read(claim.cap),
    over: read(claim.over),
    times: read(claim.times),
  };
  const unreadable = Object.values(parts)
    .flat()
    .filter((v): v is string => typeof v === 'string');
  if (unreadable.length) return { unreadable };
  const [plus, minus, cap, over, times] = [parts.plus, parts.minus, parts.cap, parts.over, parts.times] as number[][];
  let value: number;
  if (claim.derive === 'ratio') value = sum(minus!) > 0 ? sum(plus!) / sum(minus!) : NaN;
  else if (claim.derive === 'per')
    value =
      sum(over!) > 0
        ? ((sum(plus!) - sum(minus!)) * times!.reduce((a, b) => a * b, 1) * (claim.scale ?? 1)) / sum(over!)
        : NaN;
  else value = sum(plus!) - sum(minus!);
  return { value: cap!.length ? Math.min(value, ...cap!) : value };
}
