import type { StoreLocation } from './location.js';
import type { StorageSettings } from './options.js';
import { type ObjectStore, StoreRequestError, type Versioned } from './conditional.js';

/**
 * S3 (and S3-compatible stores) through the AWS SDK, loaded only when a
 * database is on S3. Settings follow LanceDB's: `aws_endpoint` / `AWS_ENDPOINT`
 * (path-style requests then, as LanceDB does), `aws_region` / `AWS_REGION`,
 * static keys if given, else the SDK's own chain (profile, web identity,
 * container or instance role).
 */
export async function openS3(loc: StoreLocation, settings: StorageSettings): Promise<ObjectStore> {
  // The SDK warns on every start under Node 20 (supported until its January 2027 releases).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client(awsClientConfig(settings, settings.get('aws_endpoint', 'endpoint', 'aws_endpoint_url', 'aws_endpoint_url_s3')));
  const bucket = loc.bucket;
  const describe = (key: string) => `s3://${bucket}/${key}`;

  const send = async <T>(what: string, key: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw asRequestError(err, `${what} ${describe(key)}`);
    }
  };

  return {
    describe,
    async create(key, body) {
      try {
        const out = await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }));
        return out.ETag ?? '';
      } catch (err) {
        if (isPrecondition(err)) return undefined;
        throw asRequestError(err, `creating ${describe(key)}`);
      }
    },
    async replace(key, body, tag) {
      try {
        const out = await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfMatch: tag }));
        return out.ETag ?? '';
      } catch (err) {
        if (isPrecondition(err) || isMissing(err)) return undefined;
        throw asRequestError(err, `replacing ${describe(key)}`);
      }
    },
    async read(key): Promise<Versioned | undefined> {
      try {
        const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: (await out.Body?.transformToString('utf8')) ?? '', tag: out.ETag ?? '' };
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw asRequestError(err, `reading ${describe(key)}`);
      }
    },
    async remove(key, tag) {
      try {
        await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: tag }));
        return true;
      } catch (err) {
        if (isMissing(err)) return true;
        if (isPrecondition(err)) return false;
        throw asRequestError(err, `deleting ${describe(key)}`);
      }
    },
    async put(key, body) {
      await send('writing', key, () => client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
    },
    async get(key) {
      try {
        const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
        return await out.Body?.transformToByteArray();
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw asRequestError(err, `reading ${describe(key)}`);
      }
    },
    async delete(key) {
      await send('deleting', key, () => client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })));
    },
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const out = await send('listing', prefix, () =>
          client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token !== undefined && { ContinuationToken: token }) })),
        );
        for (const o of out.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token !== undefined);
      return keys;
    },
    close: () => client.destroy(),
  };
}

/** Client settings shared by S3 and DynamoDB: region, endpoint, credentials, bounded timeouts and retries. */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
}

export function awsClientConfig(settings: StorageSettings, endpoint: string | undefined): AwsClientConfig {
  const region = settings.get('aws_region', 'region', 'aws_default_region') ?? 'us-east-1';
  const accessKeyId = settings.get('aws_access_key_id', 'access_key_id');
  const secretAccessKey = settings.get('aws_secret_access_key', 'secret_access_key');
  const sessionToken = settings.get('aws_session_token', 'session_token', 'aws_token', 'token');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new StoreRequestError(
      accessKeyId === undefined ? 'AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is missing' : 'AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is missing',
    );
  }
  return {
    region,
    ...(endpoint !== undefined && { endpoint, forcePathStyle: !settings.flag('aws_virtual_hosted_style_request', 'virtual_hosted_style_request') }),
    ...(accessKeyId !== undefined && secretAccessKey !== undefined && { credentials: { accessKeyId, secretAccessKey, ...(sessionToken !== undefined && { sessionToken }) } }),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
  };
}

const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/**
 * 412: the precondition did not hold. 409 ConditionalRequestConflict: S3 saw
 * another conditional write of the key in flight; for a lease the same as
 * losing the race.
 */
const isPrecondition = (err: unknown): boolean => statusOf(err) === 412 || statusOf(err) === 409 || (err as Error)?.name === 'PreconditionFailed';
const isMissing = (err: unknown): boolean => statusOf(err) === 404 || (err as Error)?.name === 'NoSuchKey' || (err as Error)?.name === 'NotFound';

/** An SDK error as one line that says what to fix. */
export function asRequestError(err: unknown, what: string): StoreRequestError {
  const e = err as Error & { code?: string };
  const status = statusOf(err);
  let why = e?.message ?? String(err);
  if (e?.name === 'CredentialsProviderError' || /Could not load credentials/i.test(why)) {
    why = 'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run with a role), or put them in MEMLANE_STORAGE_OPTIONS';
  } else if (e?.name === 'NoSuchBucket') {
    why = 'the bucket does not exist';
  } else if (status === 403 || e?.name === 'AccessDenied' || e?.name === 'InvalidAccessKeyId' || e?.name === 'SignatureDoesNotMatch') {
    why = `access denied (${e.name}): check the credentials and that they may read, write, list and delete under this prefix`;
  } else if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timed? ?out|socket hang up|connect/i.test(`${e?.code ?? ''} ${why} ${e?.name ?? ''}`)) {
    why = `cannot reach the store (${e.code ?? e.name}: ${why})`;
  }
  return new StoreRequestError(`${what}: ${why}`, status, { cause: err });
}
