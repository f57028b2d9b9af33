// `node --import` this to run a TypeScript helper inside a lab host, through the same in-memory loader
// hooks that load scenario files (no compile cache on disk).
import { register } from 'node:module';

register(new URL('../../dist/plan/typescript-hooks.js', import.meta.url));
