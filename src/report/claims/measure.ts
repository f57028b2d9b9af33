// How a rule makes its claims: it names the evidence, and the value is read from that evidence (rederive.ts), so a
// number a finding prints is always the one its evidence gives; the words are then written from the claims.
import type { Claim, Finding } from './claim.ts';
import { rederive, type EvidenceSource } from './rederive.ts';

/** A claim as a rule asks for it: bound 'exact' and derivation 'sum' unless said. */
export type ClaimSpec = Omit<Claim, 'value' | 'bound' | 'derive'> & Partial<Pick<Claim, 'bound' | 'derive'>>;

export class ClaimSet {
  readonly claims: Claim[] = [];
  constructor(private readonly source: EvidenceSource) {}

  /** The claim with its value, recorded; undefined (and nothing recorded) where the evidence cannot be read. */
  maybe(spec: ClaimSpec): Claim | undefined {
    const claim = { ...spec, bound: spec.bound ?? 'exact', derive: spec.derive ?? 'sum' } as const;
    const again = rederive(this.source, claim);
    if ('unreadable' in again || Number.isNaN(again.value)) return undefined;
    const made: Claim = { ...claim, value: again.value };
    this.claims.push(made);
    return made;
  }

  /** As maybe(), for evidence every report has (a host's counters and census): unreadable is a bug of the rule. */
  add(spec: ClaimSpec): Claim {
    const claim = this.maybe(spec);
    if (!claim)
      throw new Error(
        `finding rule: the evidence of claim ${spec.name}${spec.of ? ` (${spec.of})` : ''} cannot be read from the report`,
      );
    return claim;
  }

  /** A claim made elsewhere (claims/closer-claims.ts), recorded as it is. */
  keep<C extends Claim | undefined>(claim: C): C {
    if (claim) this.claims.push(claim);
    return claim;
  }

  finding(rule: string, host: string, peers: readonly string[], text: string): Finding {
    return { rule, host, peers: [...peers], claims: [...this.claims], text };
  }
}
