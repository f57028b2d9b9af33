// Where each host really is, from its agent's hello: a lab whose network chooses the addresses (a cluster's CNI)
// puts a pod wherever it likes, and the actors must dial it there. A host keeps its planned address when its
// agent has it; otherwise it takes its one address of that family. Anything else (none, or several and not the
// plan's) cannot be guessed: the run stops before any actor starts, saying what the agent reported.
import { isIP } from 'node:net';
import type { InterfaceAddress } from '../agent/own-addresses.ts';
import { LabUnavailableError } from '../core/errors.ts';
import type { Plan } from '../core/plan.ts';
import type { AddressMoves } from '../plan/relocate-plan.ts';

/** Planned address -> learned address, for every host's address (and IPv6 address, dual stack). */
export function learnedAddresses(
  plan: Plan,
  reported: Readonly<Record<string, readonly InterfaceAddress[]>>,
): AddressMoves {
  const moves: Record<string, string> = {};
  const problems: string[] = [];
  for (const host of Object.values(plan.hosts)) {
    const own = reported[host.name] ?? [];
    for (const planned of [host.address, ...(host.address6 ? [host.address6] : [])]) {
      const family = isIP(planned);
      const candidates = own.filter((a) => isIP(a.address) === family).map((a) => a.address);
      if (candidates.includes(planned)) moves[planned] = planned;
      else if (candidates.length === 1) moves[planned] = candidates[0]!;
      else
        problems.push(
          `host ${host.name}: its agent has ${candidates.length ? `the IPv${family} addresses ${candidates.join(', ')}, none` : `no IPv${family} address, not even`} the plan's ${planned}`,
        );
    }
  }
  const hostOf = new Map<string, string>();
  for (const host of Object.values(plan.hosts)) {
    const learned = moves[host.address];
    if (learned === undefined) continue;
    const other = hostOf.get(learned);
    if (other) problems.push(`hosts ${other} and ${host.name} both have the address ${learned}`);
    hostOf.set(learned, host.name);
  }
  if (problems.length)
    throw new LabUnavailableError(
      `the hosts' addresses could not be learned from their agents: ${problems.join('; ')}`,
    );
  return moves;
}
