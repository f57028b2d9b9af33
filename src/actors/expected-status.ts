// Which HTTP statuses a client actor counts as success (`expect: '200-399'`, or e.g. '200,204,300-399'). Any
// other status is an error of the actor, counted by status as code HTTP_<status> beside errno codes, so a 502
// reaches the Load and Errors tables, the first failure, the charts and compare like any refused connect().
import { f } from '../core/fields.ts';
import { InvalidValueError } from '../core/errors.ts';
import type { ErrorTally } from './error-tally.ts';

export const expectOption = f.string({
  default: '200-399',
  describe:
    'HTTP statuses that count as success (e.g. "200-399", "200,204"); any other is an error counted as code HTTP_<status>',
});

export type StatusCheck = (status: number) => boolean;

export function parseExpect(raw: string): StatusCheck {
  const ranges = raw.split(',').map((part) => {
    const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(part);
    if (!m || Number(m[2] ?? m[1]) < Number(m[1]))
      throw new InvalidValueError(
        `"${raw}" is not a set of HTTP statuses: use three-digit statuses and ranges, e.g. "200-399" or "200,204"`,
      );
    return [Number(m[1]), Number(m[2] ?? m[1])] as const;
  });
  return (status) => ranges.some(([lo, hi]) => status >= lo && status <= hi);
}

/** Pushes a problem where `raw` is no status set. */
export function checkExpect(raw: string, where: string, problems: string[]): void {
  try {
    parseExpect(raw);
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
  }
}

/** A response's status: true where expected; otherwise tallied as an error HTTP_<status>. */
export function tallyStatus(status: number, expected: StatusCheck, errors: ErrorTally): boolean {
  if (expected(status)) return true;
  // A status line without three digits (a broken peer) is still an error, under one code.
  errors.add({
    code: Number.isInteger(status) && status >= 100 && status <= 999 ? `HTTP_${status}` : 'HTTP_UNPARSED',
    syscall: 'response',
  });
  return false;
}
