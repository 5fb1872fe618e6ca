import { StoreOpenError } from '../local-dir.js';
import { isLocalUri } from '../uri.js';

/**
 * Where MEMLANE_DB points: a local directory, or one of the object stores
 * LanceDB can open (README: Scaling out). Parsed once, at start-up, so a bad
 * URI stops with one line naming what is wrong instead of failing (or
 * retrying for minutes) inside the engine.
 */
export type StoreKind = 'local' | 's3' | 's3+ddb' | 'gs' | 'az' | 'db';

export interface StoreLocation {
  kind: StoreKind;
  /** What LanceDB is given (the URI exactly as configured, or the directory). */
  uri: string;
  /** Bucket (s3, gs), container (az) or database name (db); '' for a local directory. */
  bucket: string;
  /** The key prefix inside the bucket, without leading or trailing '/'. */
  prefix: string;
  /** s3+ddb only: the DynamoDB table LanceDB commits through (and memlane's lease lives in). */
  ddbTable?: string;
}

const SCHEMES: Record<string, StoreKind> = { s3: 's3', 's3+ddb': 's3+ddb', gs: 'gs', az: 'az', db: 'db' };

export { isLocalUri };

export function parseLocation(uri: string): StoreLocation {
  if (isLocalUri(uri)) return { kind: 'local', uri, bucket: '', prefix: '' };
  const scheme = uri.slice(0, uri.indexOf('://')).toLowerCase();
  const kind = SCHEMES[scheme];
  if (!kind) {
    throw new StoreOpenError(`MEMLANE_DB: "${scheme}://" is not a store memlane opens; use a directory, s3://, s3+ddb://, gs://, az:// or db://`);
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new StoreOpenError(`MEMLANE_DB: "${uri}" is not a valid URI`);
  }
  // URL lower-cases nothing in the host of unknown schemes, but keep the raw text to be sure.
  const rest = uri.slice(scheme.length + 3);
  const path = rest.split('?')[0]!;
  const bucket = path.split('/')[0]!;
  const prefix = path.slice(bucket.length).replace(/^\/+|\/+$/g, '');
  const what = kind === 'az' ? 'container' : kind === 'db' ? 'database name' : 'bucket';
  if (bucket === '') throw new StoreOpenError(`MEMLANE_DB: "${uri}" names no ${what} (expected ${example(kind)})`);
  if (kind === 'db') {
    if (prefix !== '') throw new StoreOpenError(`MEMLANE_DB: "${uri}": a LanceDB Cloud URI is db://<database> with no path`);
    return { kind, uri, bucket, prefix: '' };
  }
  const params = [...url.searchParams.keys()];
  if (kind === 's3+ddb') {
    const table = url.searchParams.get('ddbTableName');
    if (!table) throw new StoreOpenError(`MEMLANE_DB: "${uri}" needs ?ddbTableName=<DynamoDB table> (expected ${example(kind)})`);
    const extra = params.filter((p) => p !== 'ddbTableName');
    if (extra.length > 0) throw new StoreOpenError(`MEMLANE_DB: "${uri}": unknown parameter ${extra.join(', ')} (only ddbTableName)`);
    return { kind, uri, bucket, prefix, ddbTable: table };
  }
  if (params.length > 0) {
    throw new StoreOpenError(`MEMLANE_DB: "${uri}" has a query string; options go in MEMLANE_STORAGE_OPTIONS (a JSON object) or the environment`);
  }
  return { kind, uri, bucket, prefix };
}

function example(kind: StoreKind): string {
  switch (kind) {
    case 's3+ddb':
      return 's3+ddb://bucket/prefix?ddbTableName=TABLE';
    case 'az':
      return 'az://container/prefix';
    case 'db':
      return 'db://database';
    default:
      return `${kind}://bucket/prefix`;
  }
}

/** The store's own key for `name` under the database's prefix. */
export const keyOf = (loc: StoreLocation, name: string): string => (loc.prefix === '' ? name : `${loc.prefix}/${name}`);

/** `s3://bucket/prefix/name`, for messages. */
export const describeKey = (loc: StoreLocation, name: string): string => `${loc.kind === 's3+ddb' ? 's3' : loc.kind}://${loc.bucket}/${keyOf(loc, name)}`;
