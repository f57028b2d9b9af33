// `waitlab setup`: checks (--check) or installs the system tools waitlab uses, from the one list in
// core/system-tools.ts. Installing needs root; without it the exact commands are printed instead.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../core/errors.ts';
import { findExecutable } from '../core/executable-lookup.ts';
import { PACKAGE_ROOT } from '../core/paths.ts';
import { locateTool, SYSTEM_TOOLS, toolVersion, type SystemTool } from '../core/system-tools.ts';
import { inUserNamespace } from '../core/user-namespace.ts';
import { installCommands, installPackages, packageManager, packagesOf } from '../lab/system-packages.ts';
import { catalogueTools, scenarioTools } from '../plan/catalogue-tools.ts';
import { EXIT } from './exit-codes.ts';

const BIN = resolve(PACKAGE_ROOT, 'bin/waitlab.js');

export interface SetupArgs {
  check: boolean;
  only?: string;
  for?: string;
  yes: boolean;
}

// What the netns lab itself runs, whatever the scenario: ip for namespaces and links, unshare and mount for rootless
// runs (core/system-tools.ts says so per tool).
const NETNS_LAB_TOOLS = ['ip', 'unshare', 'mount'];

/** The tools these scenarios run (catalogue names or files), with the netns lab's own. */
async function toolsOfScenarios(list: string): Promise<SystemTool[]> {
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError('--for: name one or more scenarios, comma-separated');
  const needed = new Set(NETNS_LAB_TOOLS);
  for (const name of names) for (const tool of (await scenarioTools(name)).tools) needed.add(tool);
  return SYSTEM_TOOLS.filter((t) => needed.has(t.name));
}

function chosenTools(only: string | undefined): SystemTool[] {
  if (only === undefined) return [...SYSTEM_TOOLS];
  const names = only
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !SYSTEM_TOOLS.some((t) => t.name === n));
  if (unknown.length || names.length === 0) {
    throw new UsageError(
      `--only ${only}: ${unknown.length ? `no tool ${unknown.join(', ')}; ` : ''}the tools are ${SYSTEM_TOOLS.map((t) => t.name).join(', ')}`,
    );
  }
  return SYSTEM_TOOLS.filter((t) => names.includes(t.name));
}

async function checkTable(tools: readonly SystemTool[]): Promise<string> {
  const scenarios = await catalogueTools();
  const rows = tools.map((tool) => {
    const path = locateTool(tool);
    const found = path ? `${path} ${toolVersion(tool, path)?.slice(0, 40) ?? ''}`.trim() : 'MISSING';
    const n = tool.needs;
    const needs = [
      ...scenarios.filter((s) => s.tools.includes(tool.name)).map((s) => s.scenario),
      ...(n.drivers ?? []).map((d) => `driver ${d}`),
      ...(n.actors ?? []).map((a) => `actor ${a}`),
      ...(n.commands ?? []).map((c) => `command ${c}`),
      ...(n.tests ?? []).map((t) => `tests ${t}`),
    ];
    return [tool.name, found, tool.apt, tool.dnf, needs.join('; ')];
  });
  return leftAligned(['TOOL', 'FOUND', 'APT (DEBIAN, UBUNTU)', 'DNF (FEDORA, RHEL)', 'NEEDED BY'], rows);
}

/** Columns padded to their widest cell, the last one left to run on. */
function leftAligned(head: readonly string[], rows: readonly string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

function shellLine(argv: readonly string[]): string {
  return argv.join(' ');
}

async function confirmed(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function setupCommand(argv: SetupArgs): Promise<number> {
  if (argv.only !== undefined && argv.for !== undefined) throw new UsageError('give --only or --for, not both');
  const tools = argv.for !== undefined ? await toolsOfScenarios(argv.for) : chosenTools(argv.only);
  if (argv.check) {
    process.stdout.write(`${await checkTable(tools)}\n`);
    const missing = tools.filter((t) => !locateTool(t));
    process.stderr.write(
      missing.length
        ? `\n${missing.length} missing: ${missing.map((t) => t.name).join(', ')}; waitlab setup installs them\n`
        : `\n${tools.length === 1 ? 'it is' : `all ${tools.length} are`} installed\n`,
    );
    return missing.length ? EXIT.THRESHOLDS_FAILED : EXIT.OK;
  }
  const missing = tools.filter((t) => !locateTool(t));
  if (missing.length === 0) {
    process.stderr.write(
      `waitlab setup: ${tools.length === 1 ? `${tools[0]!.name} is` : `all ${tools.length} tools are`} installed; nothing to do\n`,
    );
    return EXIT.OK;
  }
  const manager = packageManager();
  const names = missing.map((t) => t.name).join(', ');
  if (!manager) {
    process.stderr.write(
      `waitlab setup: ${names} missing, and this machine has neither apt-get nor dnf. Install them with its own package manager:\n`,
    );
    for (const t of missing) process.stderr.write(`  ${t.name}: Debian package ${t.apt}, Fedora package ${t.dnf}\n`);
    return EXIT.LAB_UNAVAILABLE;
  }
  const packages = packagesOf(missing, manager);
  const commands = installCommands(manager, packages);
  if (process.getuid?.() !== 0 || inUserNamespace()) {
    const scope = argv.only ? ['--only', argv.only] : argv.for ? ['--for', argv.for] : [];
    const again = ['npx', 'waitlab', 'setup', ...scope, '--yes'];
    // As Playwright's install-deps does: a user at a terminal with sudo is asked for their password, once.
    const sudo = findExecutable('sudo');
    if (sudo && process.stdin.isTTY && !inUserNamespace()) {
      process.stderr.write(`waitlab setup: ${names} missing; installing needs root, so this runs again through sudo\n`);
      const r = spawnSync(sudo, ['--', process.execPath, BIN, 'setup', ...scope, ...(argv.yes ? ['--yes'] : [])], {
        stdio: 'inherit',
      });
      return r.status ?? EXIT.INTERNAL;
    }
    // Where sudo is not installed (a fresh Debian often has none), the same commands are for a root shell.
    const prefix = sudo ? 'sudo ' : '';
    process.stderr.write(
      `waitlab setup: ${names} missing. Installing needs root; run${sudo ? '' : ' as root'}\n  ${prefix}${shellLine(again)}\nor the package manager's own commands:\n${commands.map((c) => `  ${prefix}${shellLine(c)}\n`).join('')}`,
    );
    return EXIT.THRESHOLDS_FAILED;
  }
  process.stderr.write(
    `waitlab setup: ${names} missing; installing ${packages.join(' ')} with ${manager} (no service is started)\n`,
  );
  if (!argv.yes) {
    if (!process.stdin.isTTY)
      throw new UsageError(
        'waitlab setup installs packages: give --yes to do it without asking (or --check to only look)',
      );
    if (!(await confirmed(`${commands.map(shellLine).join(' && ')}\nProceed? [y/N] `))) {
      process.stderr.write('nothing installed\n');
      return EXIT.THRESHOLDS_FAILED;
    }
  }
  installPackages(manager, packages);
  const still = missing.filter((t) => !locateTool(t));
  for (const t of missing) {
    const path = locateTool(t);
    process.stderr.write(
      `  ${t.name}: ${path ? `installed, ${path} ${toolVersion(t, path) ?? ''}`.trim() : 'STILL MISSING'}\n`,
    );
  }
  if (still.length) {
    process.stderr.write(
      `waitlab setup: ${still.map((t) => t.name).join(', ')} still missing after ${manager} installed ${packages.join(' ')}\n`,
    );
    return EXIT.THRESHOLDS_FAILED;
  }
  process.stderr.write(`waitlab setup: installed ${packages.join(' ')}\n`);
  return EXIT.OK;
}
