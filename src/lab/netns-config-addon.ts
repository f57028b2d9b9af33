// The native configurator of lab hosts (native/netns_config.c, built into build/ by npm's install step beside the
// census's and the flood's addons): rtnetlink requests and /proc/sys/net writes, each host's inside its own network
// namespace, all from one thread that setns()es from host to host.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../core/paths.ts';

export const NETNS_CONFIG_ADDON_PATH = resolve(PACKAGE_ROOT, 'build/Release/netns_config.node');

/** One host: the requests to send and the files to write inside the namespace at `namespace` (/run/netns/<name>). */
export interface ConfigureJob {
  readonly namespace: string;
  /** Whole netlink messages one after the other, each acknowledged before the next is sent. */
  readonly requests: Buffer;
  /** One per message: the interface whose index an RTM_NEWADDR takes, '' for any other message. */
  readonly devices: readonly string[];
  /** Paths under /proc/sys/net/. */
  readonly files: readonly string[];
  /** One line each, written with a newline. */
  readonly values: readonly string[];
}

/** The first failure of one job; the job stopped there, the other jobs went on. */
export interface ConfigureFailure {
  readonly job: number;
  /** namespace: open or setns; socket: the NETLINK_ROUTE socket; device: the interface of a request is not there. */
  readonly stage: 'namespace' | 'socket' | 'device' | 'request' | 'file' | 'thread';
  /** The request or file that failed. */
  readonly index: number;
  /** The errno's name (EEXIST), its text (File exists) and the kernel's extended ack, '' when it gave none. */
  readonly code: string;
  readonly text: string;
  readonly message: string;
}

export interface NetnsConfigAddon {
  configure(jobs: readonly ConfigureJob[]): Promise<ConfigureFailure[]>;
}

let addon: NetnsConfigAddon | undefined;

/** The addon, or undefined where it was not built (npm's install step needs a C compiler). */
export function netnsConfigAddon(): NetnsConfigAddon | undefined {
  if (!addon && existsSync(NETNS_CONFIG_ADDON_PATH))
    addon = createRequire(import.meta.url)(NETNS_CONFIG_ADDON_PATH) as NetnsConfigAddon;
  return addon;
}
