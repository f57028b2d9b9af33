// The lab as a small diagram: a box per host (name, address, actors) in the plan's order, and an arc from each
// connecting host to each host it connects to (planLinks: client targets and proxy upstreams), labelled with
// the actors at both ends. Inline SVG, every text escaped.
import { connectionsOf } from '../plan/connection-models.ts';
import type { Plan } from '../core/plan.ts';
import { planLinks } from '../report/evidence/links.ts';
import { escapeHtml } from './html-escape.ts';

const BOX_W = 220;
const GAP = 70;
const LINE = 16;
const ARC_STEP = 34;

function actorLine(plan: Plan, name: string): string {
  const a = plan.actors[name]!;
  const accepts = connectionsOf(a).accepts;
  const port = accepts ? ` :${accepts.port}` : '';
  return `${name}: ${a.kind}${port}`;
}

export function topologySvg(plan: Plan): string {
  const hosts = Object.values(plan.hosts);
  const actorsOf = (host: string) =>
    Object.values(plan.actors)
      .filter((a) => a.host === host)
      .map((a) => a.name);
  const links = planLinks(plan);
  const index = new Map(hosts.map((h, i) => [h.name, i]));
  const span = Math.max(1, ...links.map((l) => Math.abs(index.get(l.client)! - index.get(l.server)!)));
  const top = 30 + span * ARC_STEP;
  const boxH = 52 + LINE * Math.max(1, ...hosts.map((h) => actorsOf(h.name).length));
  const width = hosts.length * BOX_W + (hosts.length - 1) * GAP + 20;
  const height = top + boxH + 10;
  const cx = (i: number) => 10 + i * (BOX_W + GAP) + BOX_W / 2;
  const boxes = hosts.map((h, i) => {
    const x = 10 + i * (BOX_W + GAP);
    const lines = actorsOf(h.name).map(
      (a, k) => `<text x="${x + 10}" y="${top + 58 + k * LINE}">${escapeHtml(actorLine(plan, a))}</text>`,
    );
    return (
      `<rect x="${x}" y="${top}" width="${BOX_W}" height="${boxH}" rx="6" fill="#f6f8fa" stroke="#57606a"/>` +
      `<text x="${x + 10}" y="${top + 20}" font-weight="bold">${escapeHtml(h.name)}</text>` +
      `<text x="${x + 10}" y="${top + 37}" fill="#57606a">${escapeHtml(h.address)}</text>${lines.join('')}`
    );
  });
  // Arcs over the boxes, higher the further they reach; a link and its reverse sit side by side.
  const arcs = links.map((l) => {
    const from = index.get(l.client)!;
    const to = index.get(l.server)!;
    const shift = from < to ? -12 : 12;
    const x1 = cx(from) + shift;
    const x2 = cx(to) - shift;
    const cy = top - ARC_STEP * Math.abs(to - from) * 1.6;
    const label = `${l.clientActors.join(', ')} → ${l.serverActors.join(', ')}${l.via ? ` via ${l.via}` : ''}`;
    const ly = (top + 2 * cy + top) / 4 - 4;
    return (
      `<path d="M ${x1} ${top} Q ${(x1 + x2) / 2} ${cy} ${x2} ${top}" fill="none" stroke="#1f77b4" stroke-width="1.5" marker-end="url(#arrow)"/>` +
      `<text x="${(x1 + x2) / 2}" y="${ly}" text-anchor="middle" fill="#1f77b4">${escapeHtml(label)}</text>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="lab topology">` +
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#1f77b4"/></marker></defs>' +
    `${arcs.join('')}${boxes.join('')}</svg>`
  );
}
