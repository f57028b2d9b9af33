// The system tools a plan needs, gathered while it resolves: actors ask for theirs when linked, hosts for theirs
// (nft for a masquerading gateway, prlimit for limits.nofile). The missing ones end validation with exit 3.
import { locateTool, systemTool } from '../core/system-tools.ts';

export class PlanTools {
  private readonly neededBy = new Map<string, string[]>();

  /** Records that `who` needs `name`; returns where it is installed, or undefined when it is not. */
  need(name: string, who: string): string | undefined {
    const tool = systemTool(name);
    if (!tool) throw new Error(`${who}: ${name} is not in the list of system tools (core/system-tools.ts)`);
    const list = this.neededBy.get(name) ?? [];
    if (!list.includes(who)) list.push(who);
    this.neededBy.set(name, list);
    return locateTool(tool);
  }

  names(): string[] {
    return [...this.neededBy.keys()].sort();
  }

  missing(): { tool: string; neededBy: string[] }[] {
    return this.names().flatMap((name) =>
      locateTool(systemTool(name)!) ? [] : [{ tool: name, neededBy: this.neededBy.get(name)! }],
    );
  }
}
