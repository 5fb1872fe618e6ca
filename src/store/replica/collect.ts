import v8 from 'node:v8';
import vm from 'node:vm';
import { log } from '../../log.js';

/**
 * Runs V8's full garbage collection now, if this process can: the record
 * batches LanceDB hands over are native buffers that only a collection frees.
 *
 * Why: a replica load of 100,000 memories reads ~350 MB of record batches
 * (10,000 rows, ~35 MB, a range). V8 counts their memory as external and
 * collects once ~64 MB of it has piled up since its last collection, so tens
 * of MB of batches already copied into the replica stayed resident at any
 * moment of the load: the load peaked 55–60 MiB above what the replica holds
 * once loaded (417–425 against 355–363 MiB). One collection after each range
 * (25–75 ms each, ~0.4 s of a ~5 s load) keeps it at 369–373 (bench/RESULTS.md).
 *
 * `global.gc` exists only with `--expose-gc`, which a server started by Claude
 * Desktop or an IDE does not get; turning the flag on at run time makes the
 * next new context carry `gc`, so one is made for it and the flag is turned
 * off again. A process started with `--expose-gc` uses its own. If neither
 * works, loads run as before (V8 collects on its own schedule).
 */
let collector: (() => void) | null | undefined;

export function collectGarbage(): boolean {
  collector ??= findCollector();
  if (!collector) return false;
  collector();
  return true;
}

function findCollector(): (() => void) | null {
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === 'function') return own;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    v8.setFlagsFromString('--no-expose-gc');
    if (typeof gc === 'function') return gc as () => void;
    log.debug('garbage collection after replica load ranges: V8 gave no gc function; left to V8');
  } catch (err) {
    log.debug(`garbage collection after replica load ranges unavailable (${(err as Error).message}); left to V8`);
  }
  return null;
}
