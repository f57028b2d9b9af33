// Packets as evidence (--capture): what each host's pcap shows, citing frames a reader can open in Wireshark.
// The keep-alive race: data written on a connection whose peer had already sent its FIN, answered by RST. And,
// for every captured host, which end sent the first FIN with each peer, beside its kernel's own count of the
// connections it closed first (TcpExt.TW, TWKilled, TCPTimeWaitOverflow: the same connections, counted twice).
import type { Plan } from '../../core/plan.ts';
import type { CaptureReport } from '../report.ts';
import type { FrameRef, LateWrite, PacketEvidence, PeerCloses } from '../packets/packet-evidence.ts';
import { firstCloseCounters as firstCloseRefs, type Claim, type EvidenceRef, type Finding } from '../claims/claim.ts';
import type { FindingInput } from './rule.ts';
import { firstCloseCounterWords, n } from './words.ts';

/** Frames cited beside the first example. */
const MORE_FRAMES = 4;

const counted = (v: number, one: string, many = `${one}s`) => `${n(v)} ${v === 1 ? one : many}`;
const seconds = (ref: FrameRef) => `${(ref.atMs / 1000).toFixed(4)} s`;
const captureRef = (
  host: string,
  count: Extract<EvidenceRef, { from: 'capture-frames' }>['count'],
  peer?: string,
): EvidenceRef => ({ from: 'capture-frames', host, count, ...(peer !== undefined ? { peer } : {}) });

/** The plan's host at an address ("host server (198.18.0.2)"), or the address alone. */
function hostAt(plan: Plan, address: string, self: string): { name?: string; text: string } {
  if (address === '127.0.0.1' || address === '::1') return { name: self, text: `itself over loopback (${address})` };
  const host = Object.values(plan.hosts).find(
    (h) => h.address === address || h.interfaces?.some((i) => i.address === address),
  );
  return host ? { name: host.name, text: `host ${host.name} (${address})` } : { text: address };
}

const addressOf = (end: string) =>
  end.startsWith('[') ? end.slice(1, end.indexOf(']')) : end.slice(0, end.lastIndexOf(':'));

function lateWriteText(w: LateWrite): string {
  const what = w.request ? `"${w.request}" (${n(w.bytes)} bytes)` : `${n(w.bytes)} bytes`;
  const rst = w.rst ? `, answered by RST in frame ${w.rst.frame} (${seconds(w.rst)})` : ', not reset';
  return `frame ${w.frame} at ${seconds(w)}: ${what} on ${w.from} -> ${w.to} after the FIN of frame ${w.fin.frame} (${seconds(w.fin)})${w.afterFinReceived ? '' : ', the two crossing in flight'}${rst}`;
}

function raceFinding(plan: Plan, capture: CaptureReport, evidence: PacketEvidence): Finding | undefined {
  const late = evidence.lateWrites;
  if (late.answeredByRst === 0) return undefined;
  const host = capture.host;
  const reset = late.examples.filter((w) => w.rst);
  const peers = [
    ...new Set(
      reset
        .flatMap((w) => [hostAt(plan, addressOf(w.from), host).name, hostAt(plan, addressOf(w.to), host).name])
        .filter((h): h is string => h !== undefined && h !== host),
    ),
  ];
  const [first, ...others] = reset;
  let s = `Host ${host}'s capture (${capture.file}): ${counted(late.answeredByRst, 'write')} of data on a connection whose peer had already sent its FIN, answered by that peer's RST`;
  const received = late.afterFinReceived;
  s +=
    received === late.answeredByRst
      ? ` (each after the writer's own kernel had received that FIN)`
      : received === 0
        ? ' (each crossing the FIN in flight)'
        : ` (${n(received)} after the writer's own kernel had received that FIN, ${n(late.answeredByRst - received)} crossing it in flight)`;
  s += `: a request sent on a kept-alive connection the other end had just closed meets a closed socket, the keep-alive race. The first: ${lateWriteText(first!)}.`;
  if (others.length)
    s += ` Also frames ${others
      .slice(0, MORE_FRAMES)
      .map((w) => `${w.frame} (RST ${w.rst!.frame})`)
      .join(', ')}.`;
  if (late.count > late.answeredByRst)
    s += ` ${counted(late.count - late.answeredByRst, 'more write')} after a FIN ${late.count - late.answeredByRst === 1 ? 'was' : 'were'} not reset: the peer had only half-closed, and read on.`;
  const claims: Claim[] = [
    {
      name: 'lateWritesReset',
      value: late.answeredByRst,
      unit: 'segments',
      bound: 'exact',
      derive: 'sum',
      plus: [captureRef(host, 'lateWritesReset')],
    },
  ];
  return { rule: 'packets', host, peers, claims, text: s };
}

function peerText(name: string, peer: { text: string }, t: PeerCloses): string {
  const first = t.firstFins[0];
  const example = first
    ? `; the first, frame ${first.frame} at ${seconds(first)}, sent by ${first.by === 'local' ? `host ${name}` : first.by === 'peer' ? 'the peer' : 'both at once'}`
    : '';
  const parts = [`${n(t.localFirst)} by host ${name}`, `${n(t.peerFirst)} by the peer`];
  if (t.both) parts.push(`${n(t.both)} by both at once`);
  if (t.noFin) parts.push(`${n(t.noFin)} with no FIN (reset, or open when the capture stopped)`);
  return `with ${peer.text}, ${counted(t.connections, 'connection')} (${n(t.asClient)} opened by host ${name}, ${n(t.asServer)} by the peer${t.withoutSyn ? `, ${n(t.withoutSyn)} opened before the capture` : ''}): first FIN ${parts.join(', ')}${t.reset ? `; ${n(t.reset)} reset` : ''}${example}`;
}

function firstFinFinding(
  { plan, report }: FindingInput,
  capture: CaptureReport,
  evidence: PacketEvidence,
): Finding | undefined {
  const name = capture.host;
  const entries = Object.entries(evidence.byPeer).sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.length === 0) return undefined;
  const claims: Claim[] = [];
  const peerNames = new Set<string>();
  const texts = entries.map(([address, t]) => {
    const peer = hostAt(plan, address, name);
    if (peer.name && peer.name !== name) peerNames.add(peer.name);
    claims.push({
      name: 'packetFirstFins',
      value: t.localFirst + t.both,
      unit: 'connections',
      bound: 'exact',
      derive: 'sum',
      plus: [captureRef(name, 'localFirst', address), captureRef(name, 'both', address)],
      ...(peer.name ? { peers: [peer.name] } : {}),
    });
    return peerText(name, peer, t);
  });
  let s = `Host ${name}'s capture (${capture.file}), which end sent the first FIN: ${texts.join('. And ')}.`;
  const host = report.hosts[name];
  if (host) {
    const packets = entries.reduce((sum, [, t]) => sum + t.localFirst + t.both, 0);
    const refs = firstCloseRefs(name);
    const kernel = refs.reduce((sum, r) => sum + (r.from === 'counter' ? (host.counters.delta[r.counter] ?? 0) : 0), 0);
    // The kernel's count is host-wide: it speaks for every peer at once (peers: none).
    claims.push({
      name: 'firstCloses',
      value: kernel,
      unit: 'connections',
      bound: 'exact',
      derive: 'sum',
      plus: refs,
      peers: [],
    });
    s +=
      kernel === packets
        ? ` Its kernel counted the same ${counted(kernel, 'first close')} (${firstCloseCounterWords(host.counters.delta)}): the packets and the counters agree.`
        : ` Its kernel counted ${counted(kernel, 'first close')} (${firstCloseCounterWords(host.counters.delta)}), the packets show ${n(packets)}: ${kernel > packets ? 'the kernel counted closes the capture did not hold (before it started, or after a size cap cut it)' : 'some connections whose FIN went first were then reset, or closed after the end counters were read'}.`;
  }
  if (capture.truncated)
    s += ` The capture reached its size cap (${n(capture.bytes)} bytes) and holds only the run's beginning.`;
  return { rule: 'packets', host: name, peers: [...peerNames], claims, text: s };
}

export function packetFindings(input: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const capture of input.report.captures ?? []) {
    if (!capture.evidence) continue;
    const race = raceFinding(input.plan, capture, capture.evidence);
    if (race) out.push(race);
    const fins = firstFinFinding(input, capture, capture.evidence);
    if (fins) out.push(fins);
  }
  return out;
}
