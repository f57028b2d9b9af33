// Tolerances of a regression check: how far a metric may move, and which way is worse. The grammar is shared by
// `--tolerance 'path=+20%'`, a scenario's `regressions` block and the defaults: "+20%" (a rise of more than 20%
// of the baseline is a regression), "-10%" (a fall of more than 10%), "±5%" or "+-5%" (either way); without
// "%" the amount is absolute: "+100" (a rise of more than 100), "0" (any change either way).
import { InvalidValueError } from './errors.ts';
import { isInheritedName } from './own-keys.ts';

export interface Tolerance {
  /** Which way is worse. */
  readonly worse: 'up' | 'down' | 'both';
  /** The allowed change: a fraction of the baseline (0.2 for "20%"), or an absolute amount ("100"). */
  readonly amount: number;
  readonly relative: boolean;
  /** As written. */
  readonly text: string;
}

const TOLERANCE = /^(\+|-|±|\+-)?(\d+(?:\.\d+)?)(%?)$/;

export function parseTolerance(text: string): Tolerance {
  const m = TOLERANCE.exec(text.trim());
  if (!m)
    throw new InvalidValueError(
      `"${text}" is not a tolerance: use +20% (a rise is worse), -10% (a fall is worse), ±5%, an absolute +100, or 0`,
    );
  const relative = m[3] === '%';
  const amount = relative ? Number(m[2]) / 100 : Number(m[2]);
  if (relative && amount > 100) throw new InvalidValueError(`"${text}": a tolerance above 10000% compares nothing`);
  const sign = m[1];
  const worse = sign === '+' ? 'up' : sign === '-' ? 'down' : 'both';
  return { worse, amount, relative, text: text.trim() };
}

/** A glob over a report path: `*` stands for one key (without dots); everything else is literal. */
export function pathPattern(glob: string): RegExp {
  if (!/^[\w.*-]+$/.test(glob))
    throw new InvalidValueError(`"${glob}" is not a report path pattern (letters, digits, dots, dashes and *)`);
  const inherited = glob.split('.').find(isInheritedName);
  if (inherited) throw new InvalidValueError(`"${glob}": ${inherited} is not a key of a report`);
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.-]/g, (c) => `\\${c}`))
    .join('[^.]+');
  return new RegExp(`^${body}$`);
}

/** Parses "path=tolerance" as given to --tolerance. */
export function parseToleranceOverride(text: string): { pattern: string; tolerance: Tolerance } {
  const eq = text.lastIndexOf('=');
  if (eq <= 0)
    throw new InvalidValueError(
      `--tolerance ${text}: expected <path pattern>=<tolerance>, e.g. 'hosts.client.peak.total.TIME_WAIT=+10%'`,
    );
  const pattern = text.slice(0, eq).trim();
  pathPattern(pattern);
  return { pattern, tolerance: parseTolerance(text.slice(eq + 1)) };
}
