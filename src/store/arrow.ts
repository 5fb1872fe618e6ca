import { createRequire } from 'node:module';

/**
 * apache-arrow as LanceDB itself loads it: its CommonJS build. An ESM
 * `import … from 'apache-arrow'` resolves to the package's other build and
 * loads a second copy of the library (134 more files, ~200 ms before the
 * first call on this machine kind) with its own classes, so memlane's
 * schemas and tables would not even be instances of the classes LanceDB
 * checks against. Types still come from `import type`.
 */
export const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
