// The error codes a load actor can count: the kernel's errno names (what a syscall failed with), an HTTP status
// outside the expected set (HTTP_502), waitlab's own (a timeout, an unparsable response, a close before any), and
// the codes undici and Node give their own errors. A threshold naming any other is a slip, refused before the lab:
// an error never met reads 0, so a misspelt one would pass every gate.
import { constants } from 'node:os';

export const ERRNO_NAMES: readonly string[] = Object.keys(constants.errno);

const NAME_OF_ERRNO = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The errno name of a number (2: "ENOENT"); undefined for one this platform does not name. */
export const errnoName = (n: number): string | undefined => NAME_OF_ERRNO.get(n);

const OWN_CODES = [
  'REQUEST_TIMEOUT',
  'HEAD_TOO_LARGE',
  'OTHER_ERRORS',
  'HTTP_UNPARSED',
  'EOF_BEFORE_RESPONSE',
  'AUTOCANNON',
  'UNKNOWN',
];

export const ERROR_CODE = new RegExp(
  `^(?:${[...ERRNO_NAMES, ...OWN_CODES].join('|')}|HTTP_\\d{3}|UND_ERR_[A-Z_]+|ERR_[A-Z0-9_]+)$`,
);

/** Names a misspelt code may be a slip of. */
export const ERROR_CODE_NAMES: readonly string[] = [...ERRNO_NAMES, ...OWN_CODES];
