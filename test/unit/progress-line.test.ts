// The progress line names each host and actor of a small lab, and sums a scaled one's.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressPrinter } from '../../src/cli/progress.ts';

function line(hosts: number): string {
  const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
  let text = '';
  (stream as unknown as PassThrough).on('data', (c: Buffer) => (text += c.toString()));
  const names = Array.from({ length: hosts }, (_, i) => (i === 0 ? 'client' : `client_${i + 1}`));
  progressPrinter(stream, true).update({
    elapsedMs: 1500,
    phase: 'load',
    hosts: Object.fromEntries(names.map((n) => [n, { TIME_WAIT: 10, ESTABLISHED: 1, CLOSE_WAIT: 0 }])),
    actors: Object.fromEntries(names.map((_, i) => [`flood_${i + 1}`, { attempts: 20, ok: 15, errors: 5 }])),
  });
  return text;
}

describe('the progress line', () => {
  it('names every host and actor of a small lab', () => {
    expect(line(2)).toBe(
      '[1.5s load] client TW 10 EST 1 | client_2 TW 10 EST 1 | flood_1 20 tries 15 ok 5 err | flood_2 20 tries 15 ok 5 err\n',
    );
  });

  it('sums the hosts and actors of a scaled lab into one each', () => {
    expect(line(200)).toBe('[1.5s load] 200 hosts TW 2000 EST 200 | 200 actors 4000 tries 3000 ok 1000 err\n');
  });
});
