/**
 * Build step (`npm run build`): writes the `tools/list` answer for the
 * default item limit to dist/src/tool-listings.json, so that a stdio start
 * can answer `tools/list` before loading zod and the MCP SDK
 * (transport/stdio-boot.ts). A test checks that the file equals what the
 * server itself answers.
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_MAX_BATCH } from './config.js';
import { listingsFor } from './server.js';

const file = new URL('./tool-listings.json', import.meta.url);
writeFileSync(file, JSON.stringify({ maxBatch: DEFAULT_MAX_BATCH, tools: listingsFor(DEFAULT_MAX_BATCH) }));
