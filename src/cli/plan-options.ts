// The options that shape a scenario's plan (--set, --sysctl, --scale, --profile), one builder for every command
// that resolves a plan: `scenario`, `compose` and `kube` say the same flags the same way, each with its own words
// for what a replica becomes and which profiles it takes.
import type { Argv } from 'yargs';
import { BUILT_IN_PROFILES } from '../plan/profiles.ts';

export const SET_OPTION = {
  type: 'string',
  array: true,
  default: [] as string[],
  describe: 'override a parameter: --set key=value (repeatable)',
} as const;

export interface PlanOptionWords {
  /** What each replica of --scale becomes: "totals in the report", "a service each", "a pod each". */
  readonly replica: string;
  /** Whether --profile takes several (one run each) and files, or one built-in profile. */
  readonly profiles: 'many' | 'one-built-in';
}

const builtInNames = () => BUILT_IN_PROFILES.map((p) => p.name).join(', ');

export function planOptions<T>(y: Argv<T>, words: PlanOptionWords) {
  return y
    .option('set', SET_OPTION)
    .option('sysctl', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe:
        "a sysctl of one host, over the scenario's: --sysctl client:net.ipv4.tcp_tw_reuse=1 (repeatable; validated like the scenario's own). A host that --scale copies passes it to every replica; client_3: sets that replica alone",
    })
    .option('scale', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: `run a client host N times, each replica with its own address and port budget: --scale client=3 (${words.replica})`,
    })
    .option('profile', {
      type: 'string',
      describe:
        words.profiles === 'many'
          ? `sysctl profiles, comma-separated (one run each): ${builtInNames()}, or a .json file`
          : `a built-in sysctl profile: ${builtInNames()}`,
    });
}
