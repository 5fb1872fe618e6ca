import { StoreOpenError } from '../local-dir.js';

/**
 * Storage options: MEMLANE_STORAGE_OPTIONS (a JSON object of strings, passed
 * to LanceDB as `storageOptions`) over the environment (`AWS_*`, `AZURE_*`,
 * `GOOGLE_*`, `DYNAMODB_ENDPOINT`), which LanceDB reads by itself. memlane's
 * own requests (the lease, `memlane doctor`) resolve a setting the same way:
 * the option first (keys are case-insensitive), then the variable.
 */
export class StorageSettings {
  private readonly opts: Map<string, string>;

  constructor(
    /** What MEMLANE_STORAGE_OPTIONS held, as given. */
    readonly given: Record<string, string>,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.opts = new Map(Object.entries(given).map(([k, v]) => [k.toLowerCase(), v]));
  }

  /** The first of `keys` set as an option, else the first of them set in the environment (upper-cased). */
  get(...keys: string[]): string | undefined {
    for (const k of keys) {
      const v = this.opts.get(k.toLowerCase());
      if (v !== undefined && v !== '') return v;
    }
    for (const k of keys) {
      const v = this.env[k.toUpperCase()];
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  }

  flag(...keys: string[]): boolean {
    return /^(1|true|yes|on)$/i.test(this.get(...keys) ?? '');
  }

  /**
   * What LanceDB gets as `storageOptions`: the given options, plus bounded
   * retries unless set. The engine's default (10 retries over up to three
   * minutes) turns an unreachable endpoint into a start-up that hangs.
   */
  forLance(): Record<string, string> {
    return { client_max_retries: '3', client_retry_timeout: '20', connect_timeout: '5s', ...this.given };
  }
}

export function parseStorageOptions(json: string | undefined, env: NodeJS.ProcessEnv): StorageSettings {
  if (json === undefined || json.trim() === '') return new StorageSettings({}, env);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new StoreOpenError(`MEMLANE_STORAGE_OPTIONS is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new StoreOpenError('MEMLANE_STORAGE_OPTIONS must be a JSON object such as {"region":"eu-west-1"}');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw new StoreOpenError(`MEMLANE_STORAGE_OPTIONS: "${k}" must be a string, number or boolean`);
  }
  return new StorageSettings(out, env);
}
