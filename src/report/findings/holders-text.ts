// Which sockets held a host's ports toward one destination, in words, and whether TIME_WAIT alone did.
import type { HostReport } from '../report.ts';
import { ALL_PORTS, portHolders } from '../evidence/port-holders.ts';
import { n } from './words.ts';

export interface HoldersText {
  /** "TIME_WAIT 1,000, ESTABLISHED 5" */
  readonly list: string;
  /** TIME_WAIT held at least ALL_PORTS of the budget: "every port was in TIME_WAIT" may be said. */
  readonly byTimeWait: boolean;
  /** Sockets still open (ESTABLISHED, CLOSE_WAIT, SYN_SENT) held the larger part. */
  readonly byOpen: boolean;
}

const OPEN = new Set(['ESTABLISHED', 'CLOSE_WAIT', 'SYN_SENT']);

export function holdersText(host: HostReport, destination: string, budget?: number): HoldersText {
  const h = portHolders(host, destination, budget);
  const open = h.states.filter(([s]) => OPEN.has(s)).reduce((a, [, k]) => a + k, 0);
  return {
    list: h.states.map(([s, k]) => `${s} ${n(k)}`).join(', ') || 'none in any sample',
    byTimeWait: budget !== undefined && h.timeWait >= budget * ALL_PORTS,
    byOpen: open > h.timeWait,
  };
}
