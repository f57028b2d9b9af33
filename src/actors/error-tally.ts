// Errors counted by errno code and the syscall that returned it (connect, read, write, ...).

export interface ErrorCount {
  count: number;
  syscalls: Record<string, number>;
  /** ms since the run's zero when this code was first seen. */
  firstAtMs: number;
}

export class ErrorTally {
  private readonly byCode = new Map<string, ErrorCount>();
  first: { code: string; syscall: string | null; atMs: number } | null = null;
  total = 0;

  constructor(private readonly now: () => number) {}

  add(err: NodeJS.ErrnoException | { code: string; syscall?: string }): void {
    const code = err.code ?? 'UNKNOWN';
    const syscall = err.syscall ?? 'none';
    let entry = this.byCode.get(code);
    if (!entry) {
      const atMs = this.now();
      entry = { count: 0, syscalls: {}, firstAtMs: atMs };
      this.byCode.set(code, entry);
      if (!this.first) this.first = { code, syscall: err.syscall ?? null, atMs };
    }
    entry.count++;
    entry.syscalls[syscall] = (entry.syscalls[syscall] ?? 0) + 1;
    this.total++;
  }

  toJSON(): Record<string, ErrorCount> {
    return Object.fromEntries([...this.byCode].map(([code, e]) => [code, { ...e, syscalls: { ...e.syscalls } }]));
  }
}
