// report.json's JSON Schema, made from the shape that readReport() checks (report-shape.ts): one source for
// the reader, the compiler and the schema the package ships as waitlab/schema/report.json.
import { JSON_SCHEMA_DIALECT, type JsonSchema } from '../core/json-schema.ts';
import { REPORT_SCHEMA_VERSION } from './report.ts';
import { REPORT_SHAPE } from './report-shape.ts';

export function reportJsonSchema(): JsonSchema {
  const { major, minor } = REPORT_SCHEMA_VERSION;
  return {
    $schema: JSON_SCHEMA_DIALECT,
    title: `waitlab report.json, schema ${major}.${minor}`,
    description: `A run's report. Schema ${major}.x: a field added bumps the minor (schemaMinor), one removed or retyped the major (schemaVersion); fields not listed here are allowed, so a newer minor still validates.`,
    ...REPORT_SHAPE.schema,
  };
}
