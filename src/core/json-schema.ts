// A JSON Schema (draft 2020-12) fragment, as the schemas shipped in the package are built from fields
// (core/fields.ts) and shapes (core/shape.ts): plain data, written out by scripts/write-schemas.js.
export type JsonSchema = { readonly [keyword: string]: unknown };

/** The dialect every schema of the package declares. */
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
