// Requests a server-side process lost, as its own log counted them: nginx's error log by cause (proxy and server
// engines, and the built-in proxy's failures), HAProxy's traffic log by termination state and status. Each loss
// names the stat it is read from, so a finding's claims and a comparison's columns come from one place.
import type { EvidenceRef } from '../claims/claim.ts';
import { stat, type ActorReport } from '../report.ts';

export interface ServerLoss {
  /** The cause (nginx, built-in) or the termination state and status (HAProxy, "sQ--/503"). */
  readonly what: string;
  /** What it means, in words. */
  readonly meaning: string;
  readonly count: number;
  readonly ref: EvidenceRef;
}

/**
 * Causes of an error-log line that each stand for a request the server failed ('other' is not one: a warning
 * may be no loss). Which line of the log said it is in errorLog.kinds.
 */
export const LOSS_CAUSES: Readonly<Record<string, string>> = {
  workerConnections: 'no connection slot was left (worker_connections), so it closed connections it could not serve',
  portsExhausted: 'connect() toward an upstream found no free local port (EADDRNOTAVAIL)',
  addressInUse: 'a bound source port was already in use (EADDRINUSE)',
  noLiveUpstreams: 'every upstream was marked failed, so none was tried',
  upstreamRefused: 'an upstream refused the connection',
  upstreamTimeout: 'an upstream did not answer in time',
  upstreamReset: 'an upstream reset the connection',
  upstreamClosedEarly: 'an upstream closed before its response was complete',
};

/** HAProxy's session state at termination, its first two characters (HAProxy's "Session state at disconnection"). */
const WHO: Readonly<Record<string, string>> = {
  S: 'the server aborted or refused',
  s: 'the server timeout expired',
  P: 'HAProxy itself refused or failed it',
  R: 'HAProxy ran out of a resource',
  I: 'HAProxy hit an internal error',
  D: 'HAProxy killed the session (server down)',
  K: 'HAProxy killed the session (admin)',
};
const WHEN: Readonly<Record<string, string>> = {
  Q: 'while it waited in the queue',
  C: 'while connecting to the server',
  H: 'before the response headers were complete',
  D: 'during the response body',
  L: 'while the last data went out',
  R: 'while the request was read',
  T: 'in the tarpit',
};

/** A termination "sQ--/503" in words; undefined where it is no loss (a client's abort or timeout, a normal end under 500). */
export function terminationMeaning(key: string): string | undefined {
  // %ts writes the two state letters (SH/502); %tsc four (sQ--/503): the last two are cookie states.
  const m = /^(.)(.)(?:..)?\/(-?\d+)$/.exec(key);
  if (!m) return undefined;
  const [, who, when, status] = m as unknown as [string, string, string, string];
  const bad = Number(status) >= 500;
  if (who === '-' || who === 'C' || who === 'c') return bad ? `status ${status} passed on from the server` : undefined;
  if (who === 's' && when === 'Q') return `the queue timeout expired before a server was free (status ${status})`;
  return (
    `${WHO[who] ?? `termination ${who}`} ${WHEN[when] ?? ''}`.trim() +
    (Number(status) > 0 ? ` (status ${status})` : ' (no status sent)')
  );
}

/** What an actor's own log counted as lost, most first; empty for an actor with no such log or no loss. */
export function serverLosses(name: string, a: ActorReport | undefined): ServerLoss[] {
  const out: ServerLoss[] = [];
  // Reports made before a cause was parsed lack it: absent is none.
  const causes: Record<string, number | undefined> = stat(a, 'errorLog')?.causes ?? {};
  for (const [cause, count = 0] of Object.entries(causes)) {
    const meaning = LOSS_CAUSES[cause];
    if (meaning && count > 0)
      out.push({
        what: cause,
        meaning,
        count,
        ref: { from: 'actor-stat', actor: name, stat: 'errorLog', key: ['causes', cause] },
      });
  }
  for (const [key, count] of Object.entries(stat(a, 'terminations') ?? {})) {
    const meaning = terminationMeaning(key);
    if (meaning && count > 0)
      out.push({
        what: key,
        meaning,
        count,
        ref: { from: 'actor-stat', actor: name, stat: 'terminations', key: [key] },
      });
  }
  return out.sort((x, y) => y.count - x.count);
}
