import { createHmac } from 'node:crypto';
import type { StoreLocation } from './location.js';
import type { StorageSettings } from './options.js';
import { type ObjectStore, StoreRequestError, type Versioned } from './conditional.js';

/**
 * Azure Blob Storage over its REST API (no SDK: the Azure SDK needs Node 22).
 * Credentials as LanceDB reads them: `AZURE_STORAGE_ACCOUNT_NAME` with
 * `AZURE_STORAGE_ACCOUNT_KEY` (Shared Key), or `AZURE_STORAGE_SAS_TOKEN`, or a
 * service principal (`AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`,
 * `AZURE_TENANT_ID`); `AZURE_STORAGE_USE_EMULATOR=true` for Azurite's
 * well-known account. Conditional writes are Put Blob with `If-None-Match: *`
 * or `If-Match: <ETag>`.
 */
const API_VERSION = '2021-08-06';
const EMULATOR_ACCOUNT = 'devstoreaccount1';
const EMULATOR_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

type Auth = { kind: 'key'; key: Buffer } | { kind: 'sas'; query: string } | { kind: 'bearer'; token: () => Promise<string> };

interface Account {
  name: string;
  /** Base URL of the account's blob service, without a trailing '/'. */
  base: string;
  auth: Auth;
}

export function azureAccount(settings: StorageSettings): Account {
  const emulator = settings.flag('azure_storage_use_emulator', 'use_emulator', 'azure_use_emulator');
  const name = settings.get('azure_storage_account_name', 'account_name', 'azure_account_name') ?? (emulator ? EMULATOR_ACCOUNT : undefined);
  if (name === undefined) throw new StoreRequestError('az:// needs the storage account: set AZURE_STORAGE_ACCOUNT_NAME (or account_name in MEMLANE_STORAGE_OPTIONS)');
  const endpoint = settings.get('azure_storage_endpoint', 'azure_endpoint', 'endpoint');
  const base = emulator
    ? `${(endpoint ?? process.env.AZURITE_BLOB_STORAGE_URL ?? 'http://127.0.0.1:10000').replace(/\/+$/, '')}/${name}`
    : (endpoint ?? `https://${name}.blob.core.windows.net`).replace(/\/+$/, '');
  const key = settings.get('azure_storage_account_key', 'azure_storage_access_key', 'account_key', 'access_key') ?? (emulator ? EMULATOR_KEY : undefined);
  const sas = settings.get('azure_storage_sas_key', 'azure_storage_sas_token', 'sas_key', 'sas_token');
  const clientId = settings.get('azure_storage_client_id', 'azure_client_id', 'client_id');
  const secret = settings.get('azure_storage_client_secret', 'azure_client_secret', 'client_secret');
  const tenant = settings.get('azure_storage_tenant_id', 'azure_tenant_id', 'tenant_id');
  if (key !== undefined) return { name, base, auth: { kind: 'key', key: Buffer.from(key, 'base64') } };
  if (sas !== undefined) return { name, base, auth: { kind: 'sas', query: sas.replace(/^\?/, '') } };
  if (clientId !== undefined && secret !== undefined && tenant !== undefined) {
    return { name, base, auth: { kind: 'bearer', token: servicePrincipalToken(tenant, clientId, secret) } };
  }
  throw new StoreRequestError(
    `az:// account ${name} has no credentials: set AZURE_STORAGE_ACCOUNT_KEY, or AZURE_STORAGE_SAS_TOKEN, or AZURE_CLIENT_ID + AZURE_CLIENT_SECRET + AZURE_TENANT_ID`,
  );
}

export function openAzure(loc: StoreLocation, settings: StorageSettings): ObjectStore {
  const account = azureAccount(settings);
  const container = loc.bucket;
  const describe = (key: string) => `az://${container}/${key}`;
  const blob = (key: string) => `/${container}/${key.split('/').map(encodeURIComponent).join('/')}`;

  const put = (key: string, body: Uint8Array | string, conditions: Record<string, string>) =>
    azureRequest(account, 'PUT', blob(key), { headers: { 'x-ms-blob-type': 'BlockBlob', ...conditions }, body });

  return {
    describe,
    async create(key, body) {
      const res = await put(key, body, { 'If-None-Match': '*' });
      if (res.status === 409 || res.status === 412) return undefined;
      return expectOk(res, `creating ${describe(key)}`).headers.get('etag') ?? '';
    },
    async replace(key, body, tag) {
      const res = await put(key, body, { 'If-Match': tag });
      if (res.status === 412 || res.status === 404) return undefined;
      return expectOk(res, `replacing ${describe(key)}`).headers.get('etag') ?? '';
    },
    async read(key): Promise<Versioned | undefined> {
      const res = await azureRequest(account, 'GET', blob(key));
      if (res.status === 404) return undefined;
      expectOk(res, `reading ${describe(key)}`);
      return { body: res.text(), tag: res.headers.get('etag') ?? '' };
    },
    async remove(key, tag) {
      const res = await azureRequest(account, 'DELETE', blob(key), { headers: { 'If-Match': tag } });
      if (res.status === 404) return true;
      if (res.status === 412) return false;
      expectOk(res, `deleting ${describe(key)}`);
      return true;
    },
    async put(key, body) {
      expectOk(await put(key, body, {}), `writing ${describe(key)}`);
    },
    async get(key) {
      const res = await azureRequest(account, 'GET', blob(key));
      if (res.status === 404) return undefined;
      return expectOk(res, `reading ${describe(key)}`).bytes;
    },
    async delete(key) {
      const res = await azureRequest(account, 'DELETE', blob(key));
      if (res.status !== 404) expectOk(res, `deleting ${describe(key)}`);
    },
    async list(prefix) {
      const keys: string[] = [];
      let marker = '';
      do {
        const query: Record<string, string> = { restype: 'container', comp: 'list', ...(prefix !== '' && { prefix }), ...(marker !== '' && { marker }) };
        const res = expectOk(await azureRequest(account, 'GET', `/${container}`, { query }), `listing ${describe(prefix)}`);
        const xml = res.text();
        for (const m of xml.matchAll(/<Blob>[\s\S]*?<Name>([\s\S]*?)<\/Name>/g)) keys.push(unescapeXml(m[1]!));
        marker = unescapeXml(/<NextMarker>([\s\S]*?)<\/NextMarker>/.exec(xml)?.[1] ?? '');
      } while (marker !== '');
      return keys;
    },
    close() {},
  };
}

/** Creates the container if it is missing (tests and first set-up against Azurite). */
export async function ensureAzureContainer(settings: StorageSettings, container: string): Promise<void> {
  const account = azureAccount(settings);
  const res = await azureRequest(account, 'PUT', `/${container}`, { query: { restype: 'container' } });
  if (res.status !== 409) expectOk(res, `creating the container ${container}`);
}

interface Response {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  text(): string;
}

async function azureRequest(
  account: Account,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: Uint8Array | string; query?: Record<string, string> } = {},
): Promise<Response> {
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
  const headers: Record<string, string> = {
    'x-ms-date': new Date().toUTCString(),
    'x-ms-version': API_VERSION,
    ...opts.headers,
  };
  if (body !== undefined) headers['Content-Length'] = String(body.length);
  const query = new URLSearchParams(opts.query ?? {});
  let url = `${account.base}${path}`;
  const auth = account.auth;
  if (auth.kind === 'key') headers.Authorization = `SharedKey ${account.name}:${sharedKeySignature(account, auth.key, method, url, headers, opts.query ?? {})}`;
  if (auth.kind === 'bearer') headers.Authorization = `Bearer ${await auth.token()}`;
  const qs = [query.toString(), auth.kind === 'sas' ? auth.query : ''].filter((s) => s !== '').join('&');
  if (qs !== '') url += `?${qs}`;
  let res: globalThis.Response;
  try {
    res = await fetch(url, { method, headers, ...(body !== undefined && { body }), signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new StoreRequestError(`${method} ${account.base}${path}: cannot reach the store (${cause}: ${(err as Error).message})`, undefined, { cause: err });
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: () => Buffer.from(bytes).toString('utf8') };
}

function expectOk(res: Response, what: string): Response {
  if (res.status >= 200 && res.status < 300) return res;
  const code = /<Code>([^<]*)<\/Code>/.exec(res.text())?.[1] ?? res.headers.get('x-ms-error-code') ?? '';
  let why = `HTTP ${res.status}${code ? ` ${code}` : ''}`;
  if (res.status === 403) why += ': access denied; check the account key, SAS token or role';
  if (code === 'ContainerNotFound') why = 'the container does not exist';
  throw new StoreRequestError(`${what}: ${why}`, res.status);
}

/** Shared Key authorisation of the Blob service (version 2015-02-21 and later). */
function sharedKeySignature(account: Account, key: Buffer, method: string, url: string, headers: Record<string, string>, query: Record<string, string>): string {
  const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const length = h['content-length'] === '0' ? '' : (h['content-length'] ?? '');
  const canonicalHeaders = Object.keys(h)
    .filter((k) => k.startsWith('x-ms-'))
    .sort()
    .map((k) => `${k}:${h[k]!.trim()}\n`)
    .join('');
  let resource = `/${account.name}${new URL(url).pathname}`;
  for (const k of Object.keys(query).map((q) => q.toLowerCase()).sort()) resource += `\n${k}:${query[k] ?? ''}`;
  const toSign = [
    method,
    h['content-encoding'] ?? '',
    h['content-language'] ?? '',
    length,
    h['content-md5'] ?? '',
    h['content-type'] ?? '',
    '',
    h['if-modified-since'] ?? '',
    h['if-match'] ?? '',
    h['if-none-match'] ?? '',
    h['if-unmodified-since'] ?? '',
    h.range ?? '',
  ].join('\n');
  return createHmac('sha256', key).update(`${toSign}\n${canonicalHeaders}${resource}`, 'utf8').digest('base64');
}

/** Client-credentials OAuth for a service principal (NOT VERIFIED here: no Azure AD offline). */
function servicePrincipalToken(tenant: string, clientId: string, secret: string): () => Promise<string> {
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (cached && cached.until > Date.now()) return cached.token;
    const res = await fetch(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: 'https://storage.azure.com/.default' }),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await res.json()) as { access_token?: string; expires_in?: number; error_description?: string };
    if (!json.access_token) throw new StoreRequestError(`Azure AD token request failed: ${json.error_description ?? res.status}`);
    cached = { token: json.access_token, until: Date.now() + ((json.expires_in ?? 3600) - 300) * 1000 };
    return cached.token;
  };
}

const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
