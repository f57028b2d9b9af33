// One process reading and writing other lab hosts' kernel state: /proc/net tables and net sysctls opened by the
// native addon on a thread that entered each host read what a process inside that host reads, and keep reading
// that host's values afterwards; the native flood run on a thread inside a host makes its connections there.
import { closeSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { loadFloodAddon } from '../../src/actors/flood-addon.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { parseCounterPairs, parseSockstat } from '../../src/sampler/kernel-counters.ts';
import { loadAddon as loadSockDiagAddon, namedNamespacePath, openSockDiag } from '../../src/sampler/sock-diag.ts';
import { readSysctlIn, readSysctlsIn, writeSysctlIn } from '../../src/lab/namespace-sysctls.ts';
import { procNetIn } from '../../src/sampler/proc-file.ts';
import { buildLab, inHost, nodeInHost } from '../helpers/lab.ts';
import { startIn } from '../helpers/lab-programs.ts';

const N = 40;
const FIN_TIMEOUT = 'net.ipv4.tcp_fin_timeout';
// Answers each request once and closes after the client's FIN (allowHalfOpen off): the client closes first.
const HTTP_SERVER = `require('net').createServer((s) => s.once('data', () => s.write('HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok'))).listen(8080, () => console.log('ready'))`;

/** A closed-model flood of `count` GETs to address:8080, one at a time, the client closing first. */
function openFlood(address: string, count: number, durationMs: number) {
  return loadFloodAddon().open(
    {
      family: 4,
      address,
      port: 8080,
      openModel: 0,
      concurrency: 1,
      maxInFlight: 1,
      rate: 1,
      phaseMs: 0,
      maxLatenessMs: 0,
      durationMs,
      count,
      idleTimeoutMs: 5_000,
      closer: 1,
      closeStyle: 0,
      startRunMs: 0,
    },
    Buffer.from(`GET / HTTP/1.1\r\nHost: ${address}:8080\r\n\r\n`),
    new Int32Array(new SharedArrayBuffer(16)),
  );
}

const tcpCounters = (text: string) => parseCounterPairs(text, ['Tcp']);
const tcpExt = (text: string) => parseCounterPairs(text, ['TcpExt']);

describe('files of another namespace', () => {
  let lab: Lab;
  const procs: ChildProcess[] = [];
  beforeAll(async () => {
    lab = await buildLab({ busy: {}, idle: {}, web: {} });
    expect(nodeInHost(lab, 'busy', 'make-time-wait.ts', [String(N), '8080']).trim()).toBe(String(N));
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await lab?.teardown();
  });

  it('reads /proc/net of the host it entered as a process inside reads it, and re-reads it fresh', async () => {
    const busy = procNetIn(lab.hosts.busy!.location);
    const idle = procNetIn(lab.hosts.idle!.location);
    const [snmp, netstat, sockstat, idleSnmp] = await Promise.all([
      busy.snmp.read().then((b) => b.toString('latin1')),
      busy.netstat.read().then((b) => b.toString('latin1')),
      busy.sockstat.read().then((b) => b.toString('latin1')),
      idle.snmp.read().then((b) => b.toString('latin1')),
    ]);
    expect(tcpCounters(snmp)).toEqual(tcpCounters(inHost(lab, 'busy', 'cat', ['/proc/net/snmp'])));
    expect(tcpExt(netstat)).toEqual(tcpExt(inHost(lab, 'busy', 'cat', ['/proc/net/netstat'])));
    expect(parseSockstat(sockstat).tw).toBe(N);
    expect(parseSockstat(sockstat).tw).toBe(parseSockstat(inHost(lab, 'busy', 'cat', ['/proc/net/sockstat'])).tw);
    expect(tcpCounters(snmp)['Tcp.ActiveOpens']).toBe(N);
    expect(tcpCounters(idleSnmp)['Tcp.ActiveOpens']).toBe(0);

    // The same open file, read again after more connections: the thread that opened it is long gone.
    expect(nodeInHost(lab, 'busy', 'make-time-wait.ts', [String(N), '8081']).trim()).toBe(String(N));
    const again = (await busy.snmp.read()).toString('latin1');
    expect(tcpCounters(again)['Tcp.ActiveOpens']).toBe(2 * N);
    expect(parseSockstat((await busy.sockstat.read()).toString('latin1')).tw).toBe(2 * N);
  });

  it("reads and writes a host's sysctl, leaving the others and the machine's own alone", () => {
    const machine = readFileSync('/proc/sys/net/ipv4/tcp_fin_timeout', 'utf8');
    inHost(lab, 'busy', 'sh', ['-c', `echo 37 > /proc/sys/net/ipv4/tcp_fin_timeout`]);
    expect(readSysctlIn(lab.hosts.busy!.location, FIN_TIMEOUT)).toBe('37\n');
    expect(readSysctlIn(lab.hosts.idle!.location, FIN_TIMEOUT)).toBe(
      inHost(lab, 'idle', 'cat', ['/proc/sys/net/ipv4/tcp_fin_timeout']),
    );
    writeSysctlIn(lab.hosts.idle!.location, FIN_TIMEOUT, '41');
    expect(inHost(lab, 'idle', 'cat', ['/proc/sys/net/ipv4/tcp_fin_timeout'])).toBe('41\n');
    expect(inHost(lab, 'busy', 'cat', ['/proc/sys/net/ipv4/tcp_fin_timeout'])).toBe('37\n');
    expect(readFileSync('/proc/sys/net/ipv4/tcp_fin_timeout', 'utf8')).toBe(machine);
    expect(readSysctlIn(lab.hosts.idle!.location, 'net.ipv4.no_such_sysctl')).toBeUndefined();
    // Several at once, from one thread: what each host's own processes read, a sysctl this kernel lacks left out.
    expect(
      readSysctlsIn(lab.hosts.busy!.location, [FIN_TIMEOUT, 'net.ipv4.no_such_sysctl', 'net.core.somaxconn']),
    ).toEqual({
      [FIN_TIMEOUT]: '37\n',
      'net.core.somaxconn': inHost(lab, 'busy', 'cat', ['/proc/sys/net/core/somaxconn']),
    });
    // More than the addon opens in one call (64): read in turns, each as the host's own processes read it.
    const many = inHost(lab, 'busy', 'sh', ['-c', 'cd /proc/sys/net/ipv4 && ls | grep ^tcp_ | head -80'])
      .trim()
      .split('\n')
      .map((f) => `net.ipv4.${f}`);
    expect(many.length).toBeGreaterThan(64);
    const read = readSysctlsIn(lab.hosts.busy!.location, many);
    expect(Object.keys(read).length).toBeGreaterThan(64);
    for (const name of [many[0]!, many[70]!])
      expect(read[name]).toBe(inHost(lab, 'busy', 'cat', [`/proc/sys/${name.replaceAll('.', '/')}`]));
  });

  it('enters a host on the calling thread for the call only: the thread is back in its own namespace after each, a failed one too', async () => {
    const own = () => readlinkSync('/proc/thread-self/ns/net');
    const before = own();
    const busy = lab.hosts.busy!.location;
    expect(`net:[${statSync(namedNamespacePath(busy)).ino}]`).not.toBe(before);
    readSysctlsIn(busy, [FIN_TIMEOUT]);
    expect(own()).toBe(before);
    expect(parseSockstat((await procNetIn(lab.hosts.idle!.location).sockstat.read()).toString()).tw).toBe(0);
    expect(own()).toBe(before);
    closeSync(openSockDiag(loadSockDiagAddon(), busy));
    expect(own()).toBe(before);
    expect(() => readSysctlIn(`${lab.id}-nosuchhost`, FIN_TIMEOUT)).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
    expect(own()).toBe(before);
  });

  it('refuses names that are not a namespace or a net sysctl, and says ENOENT for a namespace that does not exist', () => {
    expect(() => readSysctlIn('../../proc/1/ns/net', FIN_TIMEOUT)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => readSysctlIn(lab.hosts.busy!.location, 'kernel.pid_max')).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => readSysctlIn(lab.hosts.busy!.location, 'net.ipv4/../../kernel/pid_max')).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => readSysctlIn(`${lab.id}-nosuchhost`, FIN_TIMEOUT)).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });

  it("runs the native flood on a thread inside a host: the host's connections, its port budget, its errors", async () => {
    await startIn(lab, 'web', [process.execPath, '-e', HTTP_SERVER], procs);
    const client = lab.hosts.idle!.location;
    // Ten ports: the flood's 30 connections meet EADDRNOTAVAIL once the ten are in TIME_WAIT.
    writeSysctlIn(client, 'net.ipv4.ip_local_port_range', '40000 40009');
    const before = tcpCounters(inHost(lab, 'idle', 'cat', ['/proc/net/snmp']));
    const addon = loadFloodAddon();
    const flood = openFlood(lab.hosts.web!.address, 30, 20_000);
    await new Promise<void>((resolve) => addon.runIn!(flood, namedNamespacePath(client), resolve));
    const stats = addon.stats(flood);
    const after = tcpCounters(inHost(lab, 'idle', 'cat', ['/proc/net/snmp']));
    expect(stats.ok).toBe(10);
    expect(stats.errors).toEqual([expect.objectContaining({ code: 'EADDRNOTAVAIL', syscall: 'connect', count: 20 })]);
    expect(after['Tcp.ActiveOpens']! - before['Tcp.ActiveOpens']!).toBe(10);
    const timeWait = inHost(lab, 'idle', 'ss', ['-Htan', 'state', 'time-wait']).trim().split('\n');
    expect(timeWait).toHaveLength(10);
    for (const line of timeWait)
      expect(line).toMatch(new RegExp(`${lab.hosts.idle!.address.replaceAll('.', '\\.')}:4000\\d`));
    expect(() => addon.step(flood, 1)).toThrow(/own thread/);
    addon.destroy(flood);
  });

  it('refuses to run a flood in a namespace that does not exist', () => {
    const addon = loadFloodAddon();
    const flood = openFlood('198.18.0.1', 1, 1_000);
    expect(() => addon.runIn!(flood, namedNamespacePath(`${lab.id}-nosuchhost`), () => undefined)).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
    expect(addon.stats(flood).attempts).toBe(0);
    addon.destroy(flood);
  });
});
