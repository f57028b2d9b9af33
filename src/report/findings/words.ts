// Number formatting shared by the finding rules.
export const n = (v: number) => v.toLocaleString('en-US');
/** A share in percent, one decimal; a part above its whole is printed as the whole (a census that counted a socket twice). */
export const pct = (part: number, whole: number) => `${Math.round((Math.min(part, whole) / whole) * 1000) / 10}%`;
/** part / whole as "2.5 x" from one whole up, else as a percentage with two significant digits (never "0 x"). */
export const times = (part: number, whole: number) => {
  const r = part / whole;
  if (r >= 1) return `${Math.round(r * 100) / 100} x`;
  if (r === 0) return '0%';
  return `${Number((r * 100).toPrecision(2))}% of`;
};
