// A series as one line of block characters, scaled from 0 to the series' own maximum.
const BLOCKS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  if (max === 0) return BLOCKS[0]!.repeat(values.length);
  return values
    .map((v) => BLOCKS[Math.min(BLOCKS.length - 1, Math.floor((v / max) * (BLOCKS.length - 1) + 0.5))])
    .join('');
}
