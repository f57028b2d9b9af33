// A time to come, in the unit a person reads at a glance: "45 s", "12 min", "3.5 h".
export function untilText(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${Math.max(0, Math.round(s))} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 360) / 10} h`;
}
