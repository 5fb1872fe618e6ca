import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { StoreLocation } from './location.js';
import type { StorageSettings } from './options.js';
import { type ObjectStore, StoreRequestError, type Versioned } from './conditional.js';

/**
 * Google Cloud Storage over its JSON API (no SDK: it needs Node 22). A
 * conditional create is `ifGenerationMatch=0`, a conditional replace or delete
 * `ifGenerationMatch=<generation>`: GCS's form of If-None-Match / If-Match.
 * Credentials as LanceDB reads them: a service account key, as a file
 * (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_APPLICATION_CREDENTIALS`,
 * `google_service_account`) or inline JSON (`google_service_account_key`).
 * Like LanceDB's client, a key file may carry `gcs_base_url` and
 * `disable_oauth` (for an emulator).
 */
interface ServiceAccount {
  client_email?: string;
  private_key?: string;
  token_uri?: string;
  gcs_base_url?: string;
  disable_oauth?: boolean;
}

export function openGcs(loc: StoreLocation, settings: StorageSettings): ObjectStore {
  const sa = serviceAccount(settings);
  const base = (sa.gcs_base_url ?? 'https://storage.googleapis.com').replace(/\/+$/, '');
  const token = sa.disable_oauth ? async () => undefined : accessToken(sa);
  const bucket = encodeURIComponent(loc.bucket);
  const describe = (key: string) => `gs://${loc.bucket}/${key}`;
  const object = (key: string) => `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(key)}`;
  const upload = (key: string, generation: string | undefined) =>
    `${base}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(key)}${generation === undefined ? '' : `&ifGenerationMatch=${generation}`}`;

  const request = async (method: string, url: string, body?: Uint8Array | string): Promise<globalThis.Response> => {
    const bearer = await token();
    try {
      return await fetch(url, {
        method,
        headers: { ...(bearer && { Authorization: `Bearer ${bearer}` }), ...(body !== undefined && { 'Content-Type': 'application/octet-stream' }) },
        ...(body !== undefined && { body }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new StoreRequestError(`${method} ${base}: cannot reach the store (${cause}: ${(err as Error).message})`, undefined, { cause: err });
    }
  };
  const ok = async (res: globalThis.Response, what: string) => {
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let why = `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) why += ': access denied; check the service account and its roles on the bucket';
    if (res.status === 404 && /bucket/i.test(text)) why = 'the bucket does not exist';
    throw new StoreRequestError(`${what}: ${why}`, res.status);
  };
  const generationOf = async (res: globalThis.Response) => String(((await res.json()) as { generation?: string }).generation ?? '');

  return {
    describe,
    async create(key, body) {
      const res = await request('POST', upload(key, '0'), body);
      if (res.status === 412) return undefined;
      return generationOf(await ok(res, `creating ${describe(key)}`));
    },
    async replace(key, body, tag) {
      const res = await request('POST', upload(key, tag), body);
      if (res.status === 412 || res.status === 404) return undefined;
      return generationOf(await ok(res, `replacing ${describe(key)}`));
    },
    async read(key): Promise<Versioned | undefined> {
      const meta = await request('GET', object(key));
      if (meta.status === 404) return undefined;
      const generation = await generationOf(await ok(meta, `reading ${describe(key)}`));
      const res = await request('GET', `${object(key)}?alt=media&ifGenerationMatch=${generation}`);
      // Replaced between the two requests: report the old generation, which a conditional write will then refuse.
      if (res.status === 404) return undefined;
      if (res.status === 412) return { body: '', tag: generation };
      return { body: await (await ok(res, `reading ${describe(key)}`)).text(), tag: generation };
    },
    async remove(key, tag) {
      const res = await request('DELETE', `${object(key)}?ifGenerationMatch=${tag}`);
      if (res.status === 404) return true;
      if (res.status === 412) return false;
      await ok(res, `deleting ${describe(key)}`);
      return true;
    },
    async put(key, body) {
      await ok(await request('POST', upload(key, undefined), body), `writing ${describe(key)}`);
    },
    async get(key) {
      const res = await request('GET', `${object(key)}?alt=media`);
      if (res.status === 404) return undefined;
      return new Uint8Array(await (await ok(res, `reading ${describe(key)}`)).arrayBuffer());
    },
    async delete(key) {
      const res = await request('DELETE', object(key));
      if (res.status !== 404) await ok(res, `deleting ${describe(key)}`);
    },
    async list(prefix) {
      const keys: string[] = [];
      let page: string | undefined;
      do {
        const url = `${base}/storage/v1/b/${bucket}/o?prefix=${encodeURIComponent(prefix)}${page ? `&pageToken=${encodeURIComponent(page)}` : ''}`;
        const json = (await (await ok(await request('GET', url), `listing ${describe(prefix)}`)).json()) as { items?: { name: string }[]; nextPageToken?: string };
        for (const item of json.items ?? []) keys.push(item.name);
        page = json.nextPageToken;
      } while (page);
      return keys;
    },
    close() {},
  };
}

function serviceAccount(settings: StorageSettings): ServiceAccount {
  const inline = settings.get('google_service_account_key', 'service_account_key');
  const path = settings.get('google_service_account', 'google_service_account_path', 'service_account', 'service_account_path', 'google_application_credentials');
  let text: string;
  if (inline !== undefined) text = inline;
  else if (path !== undefined) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new StoreRequestError(`gs://: cannot read the service account key ${path}: ${(err as Error).message}`);
    }
  } else {
    throw new StoreRequestError('gs:// needs a service account key: set GOOGLE_APPLICATION_CREDENTIALS (a key file) or google_service_account_key in MEMLANE_STORAGE_OPTIONS');
  }
  try {
    return JSON.parse(text) as ServiceAccount;
  } catch {
    throw new StoreRequestError('gs://: the service account key is not JSON');
  }
}

/** OAuth 2 JWT-bearer grant for a service account (NOT VERIFIED here: no Google endpoint offline). */
function accessToken(sa: ServiceAccount): () => Promise<string> {
  if (!sa.client_email || !sa.private_key) throw new StoreRequestError('gs://: the service account key has no client_email or private_key');
  let cached: { token: string; until: number } | undefined;
  const tokenUri = sa.token_uri ?? 'https://oauth2.googleapis.com/token';
  return async () => {
    if (cached && cached.until > Date.now()) return cached.token;
    const now = Math.floor(Date.now() / 1000);
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iss: sa.client_email, scope: 'https://www.googleapis.com/auth/devstorage.read_write', aud: tokenUri, iat: now, exp: now + 3600 })}`;
    const signature = createSign('RSA-SHA256').update(unsigned).sign(sa.private_key!, 'base64url');
    const res = await fetch(tokenUri, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${unsigned}.${signature}` }),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await res.json()) as { access_token?: string; expires_in?: number; error_description?: string };
    if (!json.access_token) throw new StoreRequestError(`Google token request failed: ${json.error_description ?? res.status}`);
    cached = { token: json.access_token, until: Date.now() + ((json.expires_in ?? 3600) - 300) * 1000 };
    return cached.token;
  };
}
