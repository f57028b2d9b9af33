// --sweep <param>=<values>: a list ("100/s,300/s,1000/s") or a numeric range with a factor or a step
// ("100..800x2" is 100, 200, 400, 800; "1000..4000+1000" is 1000, 2000, 3000, 4000). Values go through the
// parameter's own parser like --set, so every unit a parameter takes works in a list.
import { UsageError } from '../core/errors.ts';

export interface Sweep {
  readonly param: string;
  readonly values: readonly string[];
}

const RANGE = /^(\d+(?:\.\d+)?)\.\.(\d+(?:\.\d+)?)(?:([x+])(\d+(?:\.\d+)?))?$/;
const MAX_VALUES = 100;

export function parseSweep(text: string): Sweep {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1)
    throw new UsageError(`--sweep ${text}: expected <param>=<v1>,<v2>,... or <param>=<lo>..<hi>x<factor> / +<step>`);
  const param = text.slice(0, eq).trim();
  const spec = text.slice(eq + 1).trim();
  const m = RANGE.exec(spec);
  if (!m) {
    const values = spec.split(',').map((v) => v.trim());
    // Each value is a whole lab run: a list gets the cap a range gets.
    if (values.length > MAX_VALUES)
      throw new UsageError(`--sweep ${param}=: ${values.length} values, more than ${MAX_VALUES}`);
    if (values.some((v) => v === '')) throw new UsageError(`--sweep ${text}: an empty value in the list`);
    if (new Set(values).size !== values.length) throw new UsageError(`--sweep ${text}: a value is listed twice`);
    return { param, values };
  }
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  const op = m[3] ?? 'x';
  const by = Number(m[4] ?? 2);
  if (hi < lo) throw new UsageError(`--sweep ${text}: ${hi} is below ${lo}`);
  if ((op === 'x' && by <= 1) || (op === '+' && by <= 0))
    throw new UsageError(`--sweep ${text}: a factor above 1 or a step above 0`);
  const values: string[] = [];
  for (let v = lo; v <= hi * (1 + 1e-9); v = op === 'x' ? v * by : v + by) {
    values.push(String(Math.round(v * 1000) / 1000));
    if (values.length > MAX_VALUES) throw new UsageError(`--sweep ${text}: more than ${MAX_VALUES} values`);
  }
  return { param, values };
}
