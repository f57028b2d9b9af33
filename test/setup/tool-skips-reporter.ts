// Closes a run with one line counting the tests skipped for a missing system tool, by tool (test/helpers/tools.ts).
import type { Reporter, TestModule } from 'vitest/node';
import { SKIP_REASON } from '../helpers/tools.ts';

export default class ToolSkipsReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[]): void {
    const byTool = new Map<string, number>();
    for (const module of modules) {
      for (const test of module.children.allTests('skipped')) {
        const tools = SKIP_REASON.exec(test.fullName)?.[1];
        for (const tool of tools?.split(', ') ?? []) byTool.set(tool, (byTool.get(tool) ?? 0) + 1);
      }
    }
    if (byTool.size === 0) return;
    const counts = [...byTool].sort((a, b) => b[1] - a[1]).map(([tool, n]) => `${tool} ${n}`);
    process.stdout.write(
      `\nskipped for a missing tool (tests): ${counts.join(', ')}; npx waitlab setup installs them, WAITLAB_REQUIRE_TOOLS=1 fails instead\n`,
    );
  }
}
