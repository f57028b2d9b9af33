// Numbers as the reports print them ("1,000", "3.34"): one Intl.NumberFormat per precision, made once.
// Number.prototype.toLocaleString with options builds a formatter per call, tens of microseconds each: the terminal
// summary and summary.md of a 200-host lab called it over 100,000 times (2.6 s of the controller).
const formats = new Map<number, Intl.NumberFormat>();

/** `v` in en-US with thousands separators and at most `digits` decimals (3, as toLocaleString's default). */
export function numberText(v: number, digits = 3): string {
  let format = formats.get(digits);
  if (!format) formats.set(digits, (format = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits })));
  return format.format(v);
}
