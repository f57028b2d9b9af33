// hdr-histogram-js takes about 80 ms to load here: loaded at its first use, so an agent whose actors make no
// histogram (a server's, or one of many hosts on the native engine) starts without it. The same way as undici.
import { createRequire } from 'node:module';
import type * as Hdr from 'hdr-histogram-js';

let loaded: typeof Hdr | undefined;

export function hdrModule(): typeof Hdr {
  return (loaded ??= createRequire(import.meta.url)('hdr-histogram-js') as typeof Hdr);
}
