// Issue 20, defect 2: a local user names a process with escape sequences (set the title, hide and clear the
// screen, a newline then a forged "!" line) and leaves it holding CLOSE_WAIT sockets; root runs doctor or
// watch. Every string from the system reaches the terminal escaped: no control character, no line of its own.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../src/watch/diagnosis.ts';
import { doctorText } from '../../../src/watch/run-doctor.ts';
import { renderHost, renderHostSection } from '../../../src/watch/screen.ts';
import { TCP_STATES } from '../../../src/sampler/tcp-states.ts';
import type { Snapshot } from '../../../src/watch/snapshot.ts';
import { snapshot as idleSnapshot, states } from '../../helpers/watch-snapshot.ts';

const HOSTILE_NAME = '\x1b]0;PWNED\x07\x1b[8m\x1b[2J\n! FAKE root';
const SHOWN = '\\e]0;PWNED\\x07\\e[8m\\e[2J\\n! FAKE root';

function snapshot(closeWait: number, host = 'box'): Snapshot {
  return idleSnapshot({
    host,
    sockets: closeWait,
    states: states({ CLOSE_WAIT: closeWait }),
    sockstat: { inuse: closeWait, orphan: 0, tw: 0, alloc: 0, mem: 0 },
    holders: closeWait ? [{ pid: 4242, command: HOSTILE_NAME, closeWait, finWait2: 0, fds: 990, fdLimit: 1024 }] : [],
    sysctls: { 'net.ipv4.tcp_fin_timeout': `60\x1b[2J` },
  });
}

/** No C0/C1 control character, DEL, line separator or bidi control. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('issue 20 defect 2: process and host names reach the terminal escaped', () => {
  it('doctor: the name is shown escaped inside its finding, and only doctor\'s own lines start with "!"', () => {
    const after = snapshot(900, `evil\x1b[2J\nhost`);
    const text = doctorText(
      { host: after.host, nearLimit: true, findings: diagnose(snapshot(400), after), snapshot: after },
      5000,
      100,
    );
    expect(text).not.toMatch(CONTROL);
    expect(text.split('\n')[0]).toBe('waitlab doctor: host evil\\e[2J\\nhost, 900 TCP sockets, watched for 5 s');
    expect(text.replaceAll('\n  ', ' ')).toContain(`held by pid 4242 (${SHOWN}) 900.`);
    expect(
      text
        .split('\n')
        .filter((l) => l.startsWith('!'))
        .map((l) => l.slice(0, 20)),
    ).toEqual(['! Process 4242 (\\e]0']);
    expect(text).not.toMatch(/^! FAKE/m);
  });

  it("watch: the live screen and a run's host section show the name escaped, within the width", () => {
    const history = Object.fromEntries(TCP_STATES.map((st) => [st, [0, 900]])) as never;
    const lines = [
      ...renderHost(snapshot(900), history, { width: 100, height: 40, intervalMs: 2000 }),
      ...renderHostSection(snapshot(900), history, { width: 100, height: 10, intervalMs: 2000 }),
    ];
    expect(lines.join('\n')).not.toMatch(CONTROL);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(lines.some((l) => l.startsWith('4242     \\e]0;PWNED\\x07\\e '))).toBe(true);
    expect(lines).toContain(`CLOSE_WAIT/FIN_WAIT2 by process: pid 4242 (${SHOWN}) 900/0`);
  });
});
