// How the flood's native engine (native/flood.c) reads responses, against a server on loopback that answers each
// path its own way: a head split across writes (and one of 9 KB), a body to EOF, Content-Lengths the node engine's
// pattern reads its own way (-5, leading zeros), statuses that are no three digits, a head with no end. The engine runs one connection per case, in slices, as
// the worker thread runs it; the server is another process, so a slice that blocks does not stall it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirstErrorMark } from '../../src/actors/first-error-mark.ts';
import { floodAddonBuilt, loadFloodAddon, type NativeFloodStats } from '../../src/actors/flood-addon.ts';

const SERVER = `
const net = require('node:net');
const later = (ms) => new Promise((r) => setTimeout(r, ms));
const server = net.createServer(async (sock) => {
  let head = '';
  sock.on('data', async (d) => {
    head += d;
    if (!head.includes('\\r\\n\\r\\n')) return;
    const path = head.split(' ')[1];
    if (path === '/split') {
      for (const part of ['HTTP/1.1 200 OK\\r\\nContent-Le', 'ngth: 5\\r\\n\\r', '\\nhello']) { sock.write(part); await later(30); }
    } else if (path === '/eof') {
      sock.end('HTTP/1.1 200 OK\\r\\n\\r\\nuntil the end');
    } else if (path === '/negative') {
      sock.end('HTTP/1.1 200 OK\\r\\nContent-Length: -5\\r\\n\\r\\nbody to EOF');
    } else if (path === '/nan') {
      sock.end('HTTP/1.1 abc Weird\\r\\nContent-Length: 0\\r\\n\\r\\n');
    } else if (path === '/zeros') {
      sock.end('HTTP/1.1 200 OK\\r\\nContent-Length: 0000000000000002\\r\\n\\r\\nhi');
    } else if (path === '/no-response') {
      sock.end();
    } else if (path === '/bad-gateway') {
      sock.end('HTTP/1.1 502 Bad Gateway\\r\\nContent-Length: 0\\r\\n\\r\\n');
    } else if (path === '/short-status') {
      sock.end('HTTP/1.1 20 OK\\r\\nContent-Length: 0\\r\\n\\r\\n');
    } else if (path === '/big-split') {
      const head = 'HTTP/1.1 200 OK\\r\\nX-Fill: ' + 'x'.repeat(9000) + '\\r\\nContent-Length: 2\\r\\n\\r\\nok';
      sock.write(head.slice(0, 5000));
      await later(30);
      sock.write(head.slice(5000));
    } else if (path === '/huge') {
      sock.write('HTTP/1.1 200 OK\\r\\nX-Fill: ' + 'x'.repeat(1200 * 1024));
    }
  });
  sock.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
setTimeout(() => process.exit(0), 30000).unref();
`;

describe.skipIf(!floodAddonBuilt())('flood engine native: reading responses', () => {
  let server: ChildProcess;
  let port = 0;
  beforeAll(async () => {
    server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(server.stdout!, 'data')) as [Buffer];
    port = Number(line.toString().trim());
  });
  afterAll(() => {
    server?.kill();
  });

  /** One connection to `path`, the client closing first (graceful) once the response is in. */
  async function one(
    path: string,
    idleTimeoutMs = 3000,
    mark = new FirstErrorMark(new SharedArrayBuffer(FirstErrorMark.BYTES)),
  ): Promise<NativeFloodStats> {
    const addon = loadFloodAddon();
    const flood = addon.open(
      {
        family: 4,
        address: '127.0.0.1',
        port,
        openModel: 0,
        concurrency: 1,
        maxInFlight: 1,
        rate: 1,
        phaseMs: 0,
        maxLatenessMs: 50,
        durationMs: 10_000,
        count: 1,
        idleTimeoutMs,
        closer: 1,
        closeStyle: 0,
        startRunMs: 0,
      },
      Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`),
      mark.words,
    );
    for (let i = 0; i < 500 && !addon.step(flood, 20); i++) await new Promise((r) => setImmediate(r));
    return addon.stats(flood);
  }

  it('puts a head split across three writes back together, and reads its Content-Length', async () => {
    const s = await one('/split');
    expect(s).toMatchObject({
      attempts: 1,
      connected: 1,
      responses: 1,
      ok: 1,
      inFlight: 0,
      statuses: { 200: 1 },
      errors: [],
    });
  });

  it("takes a response without Content-Length as ending at the server's FIN", async () => {
    expect(await one('/eof')).toMatchObject({ responses: 1, ok: 1, peerClosed: 1, errors: [] });
  });

  it("reads a Content-Length of -5 as none, as the node engine's pattern does: the body runs to EOF", async () => {
    expect(await one('/negative')).toMatchObject({ responses: 1, ok: 1, peerClosed: 1, errors: [] });
  });

  it('counts a status that is no number under NaN, and not as ok: an error HTTP_UNPARSED, as in the node engine', async () => {
    expect(await one('/nan')).toMatchObject({
      responses: 1,
      ok: 0,
      statuses: { NaN: 1 },
      errors: [{ code: 'HTTP_UNPARSED', syscall: 'response', count: 1 }],
    });
  });

  it('counts a 502 as an error of the flood, HTTP_502, its first; the first-error mark stays for socket errors', async () => {
    const mark = new FirstErrorMark(new SharedArrayBuffer(FirstErrorMark.BYTES));
    const s = await one('/bad-gateway', 3000, mark);
    expect(s).toMatchObject({
      responses: 1,
      ok: 0,
      statuses: { 502: 1 },
      errors: [{ code: 'HTTP_502', syscall: 'response', count: 1, first: 1 }],
    });
    // The mark times the first socket error (connections made before port exhaustion): a status never claims it.
    expect(mark.words[0]).toBe(0);
  });

  it('counts a connection the server closed before any response as a lost request: EOF_BEFORE_RESPONSE', async () => {
    expect(await one('/no-response')).toMatchObject({
      responses: 0,
      ok: 0,
      peerClosed: 1,
      errors: [{ code: 'EOF_BEFORE_RESPONSE', syscall: 'read', count: 1 }],
    });
  });

  it('reads a Content-Length with leading zeros as its number, as \\d+ does', async () => {
    expect(await one('/zeros')).toMatchObject({ responses: 1, ok: 1, errors: [] });
  });

  it('reads the status as Number() of the three bytes after the version: "20 " is 20, not ok', async () => {
    expect(await one('/short-status')).toMatchObject({
      responses: 1,
      ok: 0,
      statuses: { 20: 1 },
      errors: [{ code: 'HTTP_UNPARSED', syscall: 'response', count: 1 }],
    });
  });

  it('takes a 9 KB head split across two writes', async () => {
    expect(await one('/big-split')).toMatchObject({ responses: 1, ok: 1, errors: [] });
  });

  it('gives up on a head with no end after 1 MiB: HEAD_TOO_LARGE', async () => {
    const s = await one('/huge');
    expect(s).toMatchObject({ responses: 0, errors: [{ code: 'HEAD_TOO_LARGE', syscall: 'none', count: 1 }] });
    // Every latency recorded is a response's: none here.
    expect(s.latency.length).toBe(0);
  });
});
