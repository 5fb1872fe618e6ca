import { type ConnectionOptions, Session } from '@lancedb/lancedb';
import { StoreOpenError } from '../local-dir.js';
import { openAzure } from './azure.js';
import { type ConditionalStore, type ObjectStore, StoreRequestError } from './conditional.js';
import { type DynamoLeaseStore, openDynamo } from './dynamodb.js';
import { openGcs } from './gcs.js';
import { keyOf, type StoreLocation } from './location.js';
import { type StorageSettings } from './options.js';
import { openS3 } from './s3.js';

/** Where memlane's own objects live under the database's prefix (LanceDB's tables are `<name>.lance/`). */
export const MEMLANE_DIR = '_memlane';
export const WRITE_LEASE = `${MEMLANE_DIR}/write.lease`;
export const MAINTENANCE_LEASE = `${MEMLANE_DIR}/maintenance.lease`;

/** The requests memlane itself makes to a remote store: objects (s3, gs, az) and where its leases live. */
export interface Remote {
  objects: ObjectStore;
  /** The lease store: the objects themselves, or the DynamoDB table for `s3+ddb://`. */
  leases: ConditionalStore;
  dynamo?: DynamoLeaseStore;
  close(): void;
}

/** Opens memlane's own client for a remote store; undefined for a local directory and `db://`. */
export async function openRemote(loc: StoreLocation, settings: StorageSettings): Promise<Remote | undefined> {
  try {
    switch (loc.kind) {
      case 's3': {
        const objects = await openS3(loc, settings);
        return { objects, leases: objects, close: () => objects.close() };
      }
      case 's3+ddb': {
        const objects = await openS3(loc, settings);
        const dynamo = await openDynamo(loc, settings);
        return { objects, leases: dynamo, dynamo, close: () => (objects.close(), dynamo.close()) };
      }
      case 'gs': {
        const objects = openGcs(loc, settings);
        return { objects, leases: objects, close: () => objects.close() };
      }
      case 'az': {
        const objects = openAzure(loc, settings);
        return { objects, leases: objects, close: () => objects.close() };
      }
      default:
        return undefined;
    }
  } catch (err) {
    if (err instanceof StoreRequestError) throw new StoreOpenError(`${loc.uri}: ${err.message}`);
    throw err;
  }
}

/**
 * LanceDB's caches, bounded. Its default session allows 1 GiB of metadata and
 * 6 GiB of index pages, and a long-running writer fills the first with a
 * manifest per table version, each the size of the fragment list: appending
 * 100 rows a call, the cache held 652 MiB after 1,000 calls (RSS 822 MiB; a
 * raw LanceDB ingest of 100,000 memories, same schema). Capped at 64 MiB it
 * held 65 (RSS 258), at the same speed within this machine's noise. What
 * memlane reads through LanceDB is the latest manifest, the data files'
 * metadata during a replica load, and the key (BTREE) index: the manifests
 * of older versions, which fill the cache during an ingest, are never read
 * again. 16 MiB rather than 64: memlane's 100,000-memory stdio ingest peaked
 * at 432–437 MiB against 487, no slower (3,669–4,181 against 3,117–3,204
 * memories/s, alternated), and serving the result was the same (load time,
 * search latency, peak within noise). 8 MiB rather than 16, once the rest of
 * the ingest's memory had been cut and the peak sat at the 400 MB target:
 * five alternated 100,000-memory ingests peaked at 373.6–395.2 MiB (median
 * 380.1) against 381.9–389.9 (median 382.6), at the same rate (3,942–5,551
 * against 3,777–5,744 memories/s), and a fresh server loaded the result in
 * the same 3.5 s to the same 369–375 MiB (bench/RESULTS.md, seventh pass).
 */
export const METADATA_CACHE_BYTES = 8n << 20n;
export const INDEX_CACHE_BYTES = 256n << 20n;

/** One per process: connections made by one process share its caches. */
let session: Session | undefined;
const lanceSession = (): Session => (session ??= new Session(INDEX_CACHE_BYTES, METADATA_CACHE_BYTES));

/** What LanceDB's `connect` gets besides the URI. */
export function lanceOptions(loc: StoreLocation, settings: StorageSettings, readConsistencyInterval: number): Partial<ConnectionOptions> {
  if (loc.kind === 'local') return { readConsistencyInterval, session: lanceSession() };
  if (loc.kind === 'db') {
    const apiKey = settings.get('lancedb_api_key', 'api_key');
    if (apiKey === undefined) throw new StoreOpenError(`${loc.uri}: LanceDB Cloud needs an API key: set LANCEDB_API_KEY (or api_key in MEMLANE_STORAGE_OPTIONS)`);
    const host = settings.get('lancedb_host_override', 'host_override');
    return {
      apiKey,
      region: settings.get('lancedb_region', 'region') ?? 'us-east-1',
      ...(host !== undefined && { hostOverride: host }),
      // Bounded, so an unreachable service fails a start-up within seconds instead of retrying for minutes.
      clientConfig: { retryConfig: { retries: 1, connectRetries: 1, backoffFactor: 0.1 }, timeoutConfig: { connectTimeout: 5, readTimeout: 30 } },
    };
  }
  return { readConsistencyInterval, storageOptions: settings.forLance(), session: lanceSession() };
}

export interface ConditionalCheck {
  /** A second conditional create of one key was refused. */
  refusesSecondCreate: boolean;
  /** Of several conditional creates of one key sent at once, exactly one won. */
  oneWinnerOfRace: boolean;
  /** A write conditional on a stale tag was refused. */
  refusesStaleReplace: boolean;
  winners: number;
}

const RACERS = 8;

/**
 * Does the store honour conditional writes? A second `If-None-Match: *`
 * create of a scratch key must be refused, exactly one of RACERS concurrent
 * creates must win, and an `If-Match` on a stale tag must be refused. Stock
 * s3rver fails the first (two writers then silently lose about half their
 * rows); Azurite 3.35 passes the first and fails the second (its check and
 * write are not atomic). Scratch keys are removed afterwards.
 */
export async function checkConditionalWrites(store: ConditionalStore, loc: StoreLocation, tag: string): Promise<ConditionalCheck> {
  const scratch = keyOf(loc, `${MEMLANE_DIR}/check-${tag}`);
  const first = await store.create(scratch, 'first');
  if (first === undefined) throw new StoreRequestError(`a fresh scratch key ${store.describe(scratch)} already existed`);
  const second = await store.create(scratch, 'second');
  const renewed = await store.replace(scratch, 'renewed', first);
  const stale = renewed === undefined ? undefined : await store.replace(scratch, 'stale', first);
  const raced = keyOf(loc, `${MEMLANE_DIR}/race-${tag}`);
  const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => store.create(raced, `racer ${i}`).catch(() => undefined)));
  const winners = results.filter((t) => t !== undefined).length;
  for (const key of [scratch, raced]) {
    const left = await store.read(key).catch(() => undefined);
    if (left) await store.remove(key, left.tag).catch(() => undefined);
  }
  return {
    refusesSecondCreate: second === undefined,
    oneWinnerOfRace: winners === 1,
    refusesStaleReplace: renewed !== undefined && stale === undefined,
    winners,
  };
}
