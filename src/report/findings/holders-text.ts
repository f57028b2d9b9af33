// Which sockets held a host's ports toward one destination, as claims (one per state, the per-peer census peak),
// in words, and whether TIME_WAIT alone did.
import type { HostReport } from '../report.ts';
import { ALL_PORTS, portHolders } from '../evidence/port-holders.ts';
import { hostPeak, peerPeak, portBudgetRef, sockstatTw, type Claim } from '../claims/claim.ts';
import type { ClaimSet } from '../claims/measure.ts';
import { n } from './words.ts';

export interface HoldersText {
  /** "TIME_WAIT 1,000, ESTABLISHED 5" */
  readonly list: string;
  /** TIME_WAIT held at least ALL_PORTS of the budget: the ports were held by TIME_WAIT. */
  readonly byTimeWait: boolean;
  /** TIME_WAIT's peak was the whole budget: "every port was in TIME_WAIT" may be said as it stands. */
  readonly everyPortInTimeWait: boolean;
  /** Sockets still open (ESTABLISHED, CLOSE_WAIT, SYN_SENT) held the larger part. */
  readonly byOpen: boolean;
}

const OPEN = new Set(['ESTABLISHED', 'CLOSE_WAIT', 'SYN_SENT']);

/** Claims of what held `name`'s ports toward `destination` (for the group with `peers`), and their words. */
export function holdersText(
  set: ClaimSet,
  name: string,
  host: HostReport,
  destination: string,
  peers: readonly string[],
  budget?: number,
): HoldersText {
  const claims: Claim[] = portHolders(host, destination, budget).states.map(([state]) => {
    // A per-peer peak is never more than the budget's ports; TIME_WAIT never more than the host's own capped count.
    const cap = [
      ...(budget !== undefined ? [portBudgetRef(name, budget)] : []),
      ...(state === 'TIME_WAIT' ? [hostPeak(name, 'TIME_WAIT'), ...(host.samples > 0 ? [sockstatTw(name)] : [])] : []),
    ];
    return set.add({
      name: 'peerStatePeak',
      of: state,
      unit: 'sockets',
      plus: [peerPeak(name, 'ephemeral', destination, state)],
      ...(cap.length ? { cap } : {}),
      peers,
    });
  });
  const timeWait = claims.find((c) => c.of === 'TIME_WAIT')?.value ?? 0;
  const open = claims.filter((c) => OPEN.has(c.of!)).reduce((a, c) => a + c.value, 0);
  return {
    list: claims.map((c) => `${c.of} ${n(c.value)}`).join(', ') || 'none in any sample',
    byTimeWait: budget !== undefined && timeWait >= budget * ALL_PORTS,
    everyPortInTimeWait: budget !== undefined && timeWait >= budget,
    byOpen: open > timeWait,
  };
}
