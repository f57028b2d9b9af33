// Requests lost on the server side: what a proxy or server process counted in its own log (nginx's error log by
// cause, HAProxy's abnormal requests by termination state, the built-in proxy's failures), beside what the
// clients that connect to it counted as errors. Both as claims: each number re-derived from the actors' stats.
import type { Claim, EvidenceRef, Finding } from '../claims/claim.ts';
import { serverLosses, type ServerLoss } from '../evidence/server-losses.ts';
import { stat } from '../report.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

const ENGINE_NAMES: Record<string, string> = {
  nginx: 'nginx',
  haproxy: 'HAProxy',
  builtin: 'the built-in undici proxy',
};

const lossClaim = (l: ServerLoss): Claim => ({
  name: 'serverLosses',
  value: l.count,
  // A termination state counts requests; an error-log cause counts the lines that said it.
  unit: l.ref.from === 'actor-stat' && l.ref.stat === 'terminations' ? 'requests' : 'log lines',
  bound: 'exact',
  derive: 'sum',
  plus: [l.ref],
});

/** What the log said: its most frequent lines (nginx) or termination states (HAProxy), with what each cause means. */
function loggedText(name: string, losses: readonly ServerLoss[], kinds: Readonly<Record<string, number>>): string {
  const byCause = losses.map((l) => `${l.what} ${n(l.count)} (${l.meaning})`).join('; ');
  if (losses.every((l) => l.ref.from === 'actor-stat' && l.ref.stat === 'terminations'))
    return `ended ${n(losses.reduce((s, l) => s + l.count, 0))} requests abnormally by its log: ${byCause}`;
  const lines = Object.entries(kinds)
    .slice(0, 3)
    .map(([kind, k]) => `"${kind.slice(0, 120)}" ${n(k)} times`)
    .join(', ');
  let s = `logged ${lines}; by cause: ${byCause}`;
  // ngx_drain_connections writes its warning at most once a second, and closes up to 32 idle connections (or
  // ones whose request was not read yet) each time without a line of their own.
  if (Object.keys(kinds).some((k) => k.includes('reusing connections')))
    s += `. nginx writes "reusing connections" at most once a second and does not log the idle or unread connections it closes then, so actor ${name}'s clients may lose more requests than it logged`;
  return s;
}

export function serverLossFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const [name, a] of Object.entries(report.actors)) {
    const losses = serverLosses(name, a);
    if (!losses.length) continue;
    const engine = String(stat(a, 'engine') ?? a.kind);
    const version = stat(a, 'version');
    const clients = Object.values(plan.actors).filter((c) => c.connect?.actor === name);
    const refs: EvidenceRef[] = [];
    const byCode: Record<string, number> = {};
    for (const c of clients) {
      for (const [code, e] of Object.entries(stat(report.actors[c.name], 'errors') ?? {})) {
        refs.push({ from: 'actor-stat', actor: c.name, stat: 'errors', key: [code, 'count'] });
        byCode[code] = (byCode[code] ?? 0) + e.count;
      }
    }
    const lost = Object.values(byCode).reduce((s, k) => s + k, 0);
    const claims = losses.map(lossClaim);
    let s = `On host ${a.host}, ${ENGINE_NAMES[engine] ?? engine}${version ? ` ${version}` : ''} (actor ${name}) ${loggedText(name, losses, stat(a, 'errorLog')?.kinds ?? {})}.`;
    if (clients.length) {
      const who = clients.map((c) => `actor ${c.name} on host ${c.host}`).join(', ');
      const attempted = clients.reduce((sum, c) => sum + (stat(report.actors[c.name], 'attempts') ?? 0), 0);
      if (lost > 0) {
        claims.push({ name: 'clientErrors', value: lost, unit: 'requests', bound: 'exact', derive: 'sum', plus: refs });
        const codes = Object.entries(byCode)
          .sort((x, y) => y[1] - x[1])
          .map(([code, k]) => `${code} ${n(k)}`)
          .join(', ');
        s += ` Its clients (${who}) lost ${n(lost)} of ${n(attempted)} requests: ${codes}.`;
      } else {
        const statuses: Record<string, number> = {};
        for (const c of clients)
          for (const [code, k] of Object.entries(stat(report.actors[c.name], 'statuses') ?? {}))
            statuses[code] = (statuses[code] ?? 0) + k;
        const got = Object.entries(statuses)
          .map(([code, k]) => `${code} ${n(k)}`)
          .join(', ');
        s += ` Its clients (${who}) counted no error in ${n(attempted)} requests${got ? ` (statuses ${got})` : ''}.`;
      }
    }
    out.push({ rule: 'server-losses', host: a.host, peers: [...new Set(clients.map((c) => c.host))], claims, text: s });
  }
  return out;
}
