// --capture: tcpdump inside each host named (in its own network namespace or container, so it sees the lab's
// interfaces and never the machine's), started before the agents and stopped after the load, writing the pcap to
// its stdout; the controller keeps whole records into <host>.pcap until the size cap, then stops it. Stopping is
// SIGTERM (tcpdump then flushes and prints its counts), SIGKILL after a grace; on every path of a run. The file
// is then read back into the report's packet evidence.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LabUnavailableError } from '../core/errors.ts';
import type { CapturePlan, Plan } from '../core/plan.ts';
import type { HostProcess, Lab } from '../lab/driver.ts';
import type { Logger } from '../log/logger.ts';
import { packetEvidence } from '../report/packets/packet-evidence.ts';
import {
  PCAP_FILE_HEADER_BYTES,
  pcapFrames,
  readPcapHeader,
  recordLength,
  type PcapHeader,
} from '../report/packets/pcap-file.ts';
import type { CaptureReport } from '../report/report.ts';

/** How long tcpdump may take to open its capture ("listening on ..."). */
const CAPTURE_READY_MS = 15_000;
/** How long tcpdump may take to exit after SIGTERM before it is killed. */
const CAPTURE_STOP_GRACE_MS = 3_000;
/** The end of tcpdump's stderr kept for an error message and its closing counts. */
const STDERR_KEPT = 4096;

/**
 * -i any: every interface of the host's namespace (eth0, eth1 of a gateway, lo). --immediate-mode: libpcap's
 * TPACKET_V3 ring otherwise hands packets over a block at a time, and the block under way at SIGTERM is lost (the
 * last 5 of 199 connections, in a trial). -U: each packet written out as it comes, so a killed tcpdump loses none.
 * -Z root: no change of user (Debian's tcpdump drops to user tcpdump, which a container may not have; stdout
 * needs no file rights). No packet is dissected, only copied out.
 */
export function tcpdumpArgv(capture: CapturePlan): string[] {
  return ['tcpdump', '-i', 'any', '--immediate-mode', '-s', String(capture.snaplen), '-U', '-Z', 'root', '-w', '-'];
}

/** tcpdump's own counts at its exit: "N packets dropped by kernel". */
export function droppedByKernel(stderr: string): number | undefined {
  const m = /(\d+) packets? dropped by kernel/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

class HostCapture {
  readonly file: string;
  private readonly fd: number;
  private header: PcapHeader | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private written = 0;
  truncated = false;
  stderr = '';
  readonly exited: Promise<void>;
  readonly ready: Promise<void>;
  private exitedAlready = false;

  constructor(
    readonly host: string,
    private readonly tool: HostProcess,
    dir: string,
    private readonly maxBytes: number,
  ) {
    this.file = `${host}.pcap`;
    this.fd = openSync(join(dir, this.file), 'wx', 0o644);
    // 'close': the process has exited and its stdout and stderr have ended, so every byte it wrote was read.
    const child = tool.child;
    this.exited = new Promise((resolve) => child.on('close', () => resolve()));
    void this.exited.then(() => (this.exitedAlready = true));
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new LabUnavailableError(
              `tcpdump in host ${host} did not start capturing within ${CAPTURE_READY_MS / 1000} s: ${this.stderr.trim() || 'it said nothing'}`,
            ),
          ),
        CAPTURE_READY_MS,
      );
      child.stderr!.on('data', (d: Buffer) => {
        this.stderr = (this.stderr + d.toString('utf8')).slice(-STDERR_KEPT);
        if (/listening on /.test(this.stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new LabUnavailableError(`tcpdump in host ${host} could not be started: ${err.message}`));
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(
          new LabUnavailableError(
            `tcpdump in host ${host} exited before capturing: ${this.stderr.trim() || `exit ${child.exitCode ?? child.signalCode}`}`,
          ),
        );
      });
    });
    this.ready.catch(() => undefined);
    child.stdout!.on('data', (chunk: Buffer) => this.take(chunk));
  }

  /** Keeps whole records up to the cap; at the cap, stops the capture. */
  private take(chunk: Buffer): void {
    if (this.truncated) return;
    let bytes = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (!this.header) {
      if (bytes.length < PCAP_FILE_HEADER_BYTES) {
        this.pending = bytes;
        return;
      }
      try {
        this.header = readPcapHeader(bytes);
      } catch {
        // Not a pcap on stdout (a tcpdump that prints something else): keep nothing, and the report says the file is no pcap.
        this.truncated = true;
        this.tool.signal('SIGTERM');
        return;
      }
      this.write(bytes.subarray(0, PCAP_FILE_HEADER_BYTES));
      bytes = bytes.subarray(PCAP_FILE_HEADER_BYTES);
    }
    let offset = 0;
    for (
      let length = recordLength(this.header, bytes, 0);
      length !== undefined;
      length = recordLength(this.header, bytes, offset)
    ) {
      if (this.written + length > this.maxBytes) {
        this.truncated = true;
        this.tool.signal('SIGTERM');
        break;
      }
      this.write(bytes.subarray(offset, offset + length));
      offset += length;
    }
    this.pending = this.truncated ? Buffer.alloc(0) : Buffer.from(bytes.subarray(offset));
  }

  private write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    this.written += bytes.length;
  }

  async stop(): Promise<void> {
    if (!this.exitedAlready) {
      this.tool.signal('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([
        this.exited.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), CAPTURE_STOP_GRACE_MS))),
      ]);
      clearTimeout(timer);
      if (!graceful) {
        this.tool.signal('SIGKILL');
        await this.exited;
      }
    }
    closeSync(this.fd);
  }
}

export class PacketCaptures {
  private readonly captures: HostCapture[] = [];

  constructor(
    private readonly plan: Plan,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Starts tcpdump in every host the plan names and waits until each one captures. */
  async start(lab: Lab): Promise<void> {
    const capture = this.plan.capture;
    if (!capture) return;
    if (!lab.spawnInHost)
      throw new LabUnavailableError(`--capture: the ${lab.driver} lab cannot start tcpdump in its hosts`);
    for (const host of capture.hosts) {
      this.captures.push(
        new HostCapture(host, lab.spawnInHost(host, tcpdumpArgv(capture)), this.dir, capture.maxBytes),
      );
    }
    await Promise.all(this.captures.map((c) => c.ready));
    this.logger.info(
      { hosts: capture.hosts, snaplen: capture.snaplen, maxBytes: capture.maxBytes },
      'packet captures started',
    );
  }

  /** Stops every capture and reads each pcap back; `runStartMs`: the run's start, ms since the epoch. */
  async stop(runStartMs: number): Promise<CaptureReport[]> {
    await Promise.all(this.captures.map((c) => c.stop()));
    return this.captures.map((c) => this.reportOf(c, runStartMs));
  }

  private reportOf(c: HostCapture, runStartMs: number): CaptureReport {
    const host = this.plan.hosts[c.host]!;
    const bytes = readFileSync(join(this.dir, c.file));
    const dropped = droppedByKernel(c.stderr);
    const base = {
      host: c.host,
      file: c.file,
      bytes: bytes.length,
      snaplen: this.plan.capture!.snaplen,
      truncated: c.truncated,
      ...(dropped !== undefined ? { droppedByKernel: dropped } : {}),
    };
    try {
      const addresses = [host.address, ...(host.interfaces ?? []).map((i) => i.address)];
      const evidence = packetEvidence(pcapFrames(bytes), addresses, Math.round(runStartMs * 1000));
      this.logger.info(
        { host: c.host, file: c.file, bytes: bytes.length, packets: evidence.frames, truncated: c.truncated },
        'packet capture stopped',
      );
      return { ...base, packets: evidence.frames, evidence };
    } catch (err) {
      return { ...base, packets: 0, problem: (err as Error).message };
    }
  }
}
