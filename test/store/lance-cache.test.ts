/**
 * LanceDB's caches are bounded (src/store/backends/index.ts): its default
 * session keeps a manifest per table version, each the size of the fragment
 * list, so a writer appending a call at a time grew by hundreds of MB over a
 * long ingest. The same appends through memlane's connection options stay
 * under the caps; through LanceDB's default session they do not (which is
 * what makes this test able to fail).
 */
import * as lancedb from '@lancedb/lancedb';
import { describe, expect, it } from 'vitest';
import { lanceOptions, METADATA_CACHE_BYTES } from '../../src/store/backends/index.js';
import { parseLocation } from '../../src/store/backends/location.js';
import { parseStorageOptions } from '../../src/store/backends/options.js';
import { tempDir } from '../helpers/harness.js';

async function appendOneRowAtATime(options: Partial<lancedb.ConnectionOptions>, calls: number): Promise<bigint> {
  const conn = await lancedb.connect(tempDir(), options);
  const table = await conn.createTable('t', [{ id: 0, text: 'x'.repeat(64) }]);
  for (let i = 1; i <= calls; i++) {
    await table.version();
    await table.add([{ id: i, text: `${i}`.repeat(16) }]);
  }
  const size = options.session!.sizeBytes();
  table.close();
  conn.close();
  return size;
}

describe('LanceDB’s caches', () => {
  it('stay within memlane’s caps over hundreds of commits, where the default session grows past them', { timeout: 120_000 }, async () => {
    const calls = 500; // the default session holds ~165 MiB after 500, ~60 after 300 (quadratic: manifests grow)
    const opts = lanceOptions(parseLocation(tempDir()), parseStorageOptions(undefined, {}), 0);
    expect(opts.session).toBeDefined();
    const bounded = await appendOneRowAtATime(opts, calls);
    const unbounded = await appendOneRowAtATime({ readConsistencyInterval: 0, session: lancedb.Session.default() }, calls);
    expect(unbounded, 'the default session outgrows the cap (else this test proves nothing)').toBeGreaterThan(2n * METADATA_CACHE_BYTES);
    // Nothing here reads an index: the metadata cap alone bounds it (LanceDB may overshoot by an entry).
    expect(bounded).toBeLessThanOrEqual(METADATA_CACHE_BYTES + (METADATA_CACHE_BYTES >> 4n));
  });

  it('are one session for the process', () => {
    const a = lanceOptions(parseLocation(tempDir()), parseStorageOptions(undefined, {}), 0).session;
    const b = lanceOptions(parseLocation(tempDir()), parseStorageOptions(undefined, {}), 0).session;
    expect(a).toBe(b);
  });
});
