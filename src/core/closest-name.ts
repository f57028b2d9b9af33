// "Did you mean": the known name nearest a misspelt one, by edit distance (insertions, deletions, substitutions,
// and a swap of two neighbours), when it is near enough to be a slip rather than another name.

/** Optimal string alignment distance between a and b. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The one candidate within 2 edits (1 for names of up to 4 characters), or undefined where none or several tie. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const most = name.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = most + 1;
  let tied = false;
  for (const c of new Set(candidates)) {
    if (c === name) continue;
    const distance = editDistance(name, c);
    if (distance < bestDistance) [best, bestDistance, tied] = [c, distance, false];
    else if (distance === bestDistance) tied = true;
  }
  return tied ? undefined : best;
}
