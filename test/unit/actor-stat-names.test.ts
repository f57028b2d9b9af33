import { describe, expect, it } from 'vitest';
import { ACTOR_STAT_NAMES } from '../../src/actors/stat-names.ts';
import { REPORT_SHAPE } from '../../src/report/report-shape.ts';

describe('actor stat names', () => {
  it("are exactly what the report's shape lets an actor's entry hold beside its kind and host", () => {
    const actors = REPORT_SHAPE.schema['properties'] as Record<
      string,
      { additionalProperties: { properties: object } }
    >;
    const keys = Object.keys(actors['actors']!.additionalProperties.properties).filter(
      (k) => k !== 'kind' && k !== 'host',
    );
    expect([...ACTOR_STAT_NAMES].sort()).toEqual(keys.sort());
  });
});
