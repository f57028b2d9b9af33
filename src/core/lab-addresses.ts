// Lab addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking) and nowhere else.

function toInt(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

const LAB_BASE = toInt('198.18.0.0')!;
const LAB_SIZE = 2 ** 17; // a /15

export function addressInLabNetwork(address: string): boolean {
  const n = toInt(address);
  return n !== undefined && n >= LAB_BASE && n < LAB_BASE + LAB_SIZE;
}

/** 198.18.0.1, 198.18.0.2, ...: the i-th host on the lab's /24. */
export function nthLabAddress(i: number): string {
  if (i < 0 || i > 253) throw new Error(`a lab has at most 254 auto-addressed hosts`);
  return `198.18.0.${i + 1}`;
}
