/**
 * The backends the storage suite runs against, each on its emulator (started
 * by test/helpers/emulators.ts): a local directory (the reference), s3:// and
 * s3+ddb:// on moto, az:// on Azurite. Every database gets a fresh prefix.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { openRemote } from '../../src/store/backends/index.js';
import { keyOf, parseLocation } from '../../src/store/backends/location.js';
import { ensureAzureContainer } from '../../src/store/backends/azure.js';
import { StorageSettings } from '../../src/store/backends/options.js';
import { awsOptions, azureOptions, BUCKET, DDB_TABLE } from '../helpers/emulators.js';
import { tempDir } from '../e2e/_spawn.js';

export type BackendName = 'local' | 's3' | 's3+ddb' | 'az';

export interface Backend {
  name: BackendName;
  /**
   * MEMLANE_DB and MEMLANE_STORAGE_OPTIONS (and what else the backend needs) for a fresh
   * database, in a bucket (container) of its own: moto lists a prefix by scanning every
   * key of the bucket, so a bucket shared by the whole run would slow every test down.
   */
  fresh(): Promise<Record<string, string>>;
}

const unique = () => `t-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

async function newBucket(kind: 's3' | 'az'): Promise<string> {
  const e = inject('emulators');
  const bucket = `ml-${unique()}`;
  if (kind === 'az') {
    await ensureAzureContainer(new StorageSettings(azureOptions(e.azurite), {}), bucket);
    return bucket;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({ endpoint: `http://127.0.0.1:${e.moto}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
  return bucket;
}

export function backend(name: BackendName): Backend {
  const e = inject('emulators');
  switch (name) {
    case 'local':
      return { name, fresh: async () => ({ MEMLANE_DB: tempDir('memlane-storage-') }) };
    case 's3':
      return { name, fresh: async () => ({ MEMLANE_DB: `s3://${await newBucket('s3')}/${unique()}`, MEMLANE_STORAGE_OPTIONS: JSON.stringify(awsOptions(e.moto)) }) };
    case 's3+ddb':
      return {
        name,
        fresh: async () => ({
          MEMLANE_DB: `s3+ddb://${await newBucket('s3')}/${unique()}?ddbTableName=${DDB_TABLE}`,
          MEMLANE_STORAGE_OPTIONS: JSON.stringify({ ...awsOptions(e.moto), dynamodb_endpoint: `http://127.0.0.1:${e.moto}` }),
        }),
      };
    case 'az':
      // Azurite's conditional create is not atomic under concurrency (see emulators.ts), so
      // memlane refuses several writers on it; this suite runs one writer, and says so.
      return {
        name,
        fresh: async () => ({ MEMLANE_DB: `az://${await newBucket('az')}/${unique()}`, MEMLANE_STORAGE_OPTIONS: JSON.stringify(azureOptions(e.azurite)), MEMLANE_SINGLE_WRITER: '1' }),
      };
  }
}



/** Stock s3rver: a store that ignores conditional writes. */
export function stockS3rver(): Record<string, string> {
  const e = inject('emulators');
  return {
    MEMLANE_DB: `s3://${BUCKET}/${unique()}`,
    MEMLANE_STORAGE_OPTIONS: JSON.stringify({ ...awsOptions(e.s3rver), aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER' }),
  };
}

/** Every object under the database's prefix, with its bytes (remote backends only). */
export async function objectsOf(env: Record<string, string>): Promise<Map<string, Buffer>> {
  const loc = parseLocation(env.MEMLANE_DB!);
  const remote = (await openRemote(loc, new StorageSettings(JSON.parse(env.MEMLANE_STORAGE_OPTIONS ?? '{}') as Record<string, string>, {})))!;
  try {
    const out = new Map<string, Buffer>();
    for (const key of await remote.objects.list(`${keyOf(loc, '')}`)) {
      const bytes = await remote.objects.get(key);
      if (bytes) out.set(key, Buffer.from(bytes));
    }
    return out;
  } finally {
    remote.close();
  }
}

/** The write lease object or item, if present. */
export async function leaseOf(env: Record<string, string>): Promise<string | undefined> {
  const loc = parseLocation(env.MEMLANE_DB!);
  const remote = (await openRemote(loc, new StorageSettings(JSON.parse(env.MEMLANE_STORAGE_OPTIONS ?? '{}') as Record<string, string>, {})))!;
  try {
    return (await remote.leases.read(keyOf(loc, '_memlane/write.lease')))?.body;
  } finally {
    remote.close();
  }
}
