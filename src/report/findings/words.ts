// Number formatting shared by the finding rules.
export const n = (v: number) => v.toLocaleString('en-US');
export const pct = (part: number, whole: number) => `${Math.round((part / whole) * 1000) / 10}%`;
