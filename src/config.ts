import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { DEFAULT_DTYPE, DEFAULT_HUB, DTYPES, type Dtype } from './embed/transformers/files.js';
import { agentIdSchema } from './scope/ids.js';
import { isLocalUri } from './store/uri.js';
import { DEFAULT_LEASE_TTL_MS } from './store/lease-lock.js';

/** Items per call unless MEMLANE_MAX_BATCH says otherwise (contract §3). */
export const DEFAULT_MAX_BATCH = 100;

/** A read replica looks for new versions at most once a second (README: Scaling out). */
export const DEFAULT_READ_INTERVAL_MS = 1_000;

/** Environment → one typed, validated Config (contract §5). */
const envSchema = z.object({
  MEMLANE_DB: z.string().min(1).optional(),
  MEMLANE_EMBEDDER: z.enum(['local', 'openai', 'transformers']).default('local'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  MEMLANE_EMBED_MODEL: z.string().min(1).optional(),
  MEMLANE_EMBED_DIM: z.coerce.number().int().min(8).max(8192).optional(),
  MEMLANE_MODEL_DIR: z.string().min(1).optional(),
  MEMLANE_EMBED_DTYPE: z.enum(DTYPES).default(DEFAULT_DTYPE),
  MEMLANE_EMBED_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  MEMLANE_EMBED_PRELOAD: z.enum(['0', '1', 'true', 'false']).default('0'),
  HF_ENDPOINT: z.string().url().optional(),
  HF_TOKEN: z.string().optional(),
  MEMLANE_AGENT: agentIdSchema.default('default'),
  MEMLANE_SESSION_TOKEN: z.string().optional(),
  MEMLANE_REQUIRE_TOKEN: z.enum(['0', '1', 'true', 'false']).default('0'),
  MEMLANE_MAX_BATCH: z.coerce.number().int().min(1).max(500).default(DEFAULT_MAX_BATCH),
  MEMLANE_MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  MEMLANE_ALLOWED_ORIGINS: z.string().optional(),
  MEMLANE_MAX_BODY: z.string().optional(),
  MEMLANE_RATE_LIMIT: z.string().optional(),
  MEMLANE_SLOW_CALL_MS: z.coerce.number().int().min(0).default(2_000),
  MEMLANE_STORAGE_OPTIONS: z.string().optional(),
  MEMLANE_READ_ONLY: z.enum(['0', '1', 'true', 'false']).default('0'),
  MEMLANE_SINGLE_WRITER: z.enum(['0', '1', 'true', 'false']).default('0'),
  MEMLANE_LEASE_TTL_MS: z.coerce.number().int().min(1_000).max(600_000).default(DEFAULT_LEASE_TTL_MS),
  MEMLANE_READ_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(DEFAULT_READ_INTERVAL_MS),
  MEMLANE_MALLOC_TRIM: z.enum(['0', '1', 'true', 'false']).default('1'),
  // Read by log.ts when it loads (it logs before any config exists); checked here so a typo is said, not ignored.
  MEMLANE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error'], { error: 'must be one of debug, info, warn, error' }).default('info'),
});

export interface Config {
  dbUri: string;
  embedder: {
    provider: 'local' | 'openai' | 'transformers';
    model?: string;
    dim?: number;
    apiKey?: string;
    baseURL?: string;
    /** transformers: a folder holding the model's files (nothing is downloaded then). */
    modelDir?: string;
    /** transformers: which ONNX weights (`q8`: onnx/model_quantized.onnx). */
    dtype: Dtype;
    /** transformers: ONNX Runtime's threads for one inference (default: every core). */
    threads: number;
    /** transformers: start loading the model when the server starts instead of at the first call that needs it. */
    preload: boolean;
    /** transformers: where hub downloads are kept (`models/` under the data directory). */
    cacheDir: string;
    hubEndpoint: string;
    hubToken?: string;
  };
  defaultAgent: string;
  sessionToken?: string;
  requireToken: boolean;
  maxBatch: number;
  /** How often the background maintainer looks at fragment/version counts; 0 turns it off. */
  maintenanceIntervalMs: number;
  /** A call that takes longer than this is reported to the client as a warning log message. */
  slowCallMs: number;
  http: HttpConfig;
  store: StoreConfig;
}

/** How the database is opened (README: Scaling out). */
export interface StoreConfig {
  /** MEMLANE_STORAGE_OPTIONS as given (JSON text); parsed when the store is opened. */
  storageOptions?: string;
  /** A read replica: never takes the writer lock, refuses every write. */
  readOnly: boolean;
  /** The operator vouches that this is the only writer (a store without conditional writes may then be written). */
  singleWriter: boolean;
  /** The object-store writer lease's time to live. */
  leaseTtlMs: number;
  /** A read replica's LanceDB `readConsistencyInterval`: the bound on how stale its reads may be. */
  readIntervalMs: number;
  /** Linux/glibc: fix malloc's trim threshold so that memory LanceDB frees goes back to the system (store/allocator.ts). */
  releaseFreedMemory: boolean;
}

/** What only `memlane serve --http` reads (contract §6). */
export interface HttpConfig {
  /** Exact origins (`scheme://host[:port]`) a browser may call from; undefined: loopback origins only. */
  allowedOrigins?: string[];
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  /** Requests per token and window; undefined: no rate limit. */
  rateLimit?: { points: number; windowSeconds: number };
}

export function defaultDbDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'memlane');
}

export { ConfigError };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty variables (`FOO=` in a client config) mean "not set", not "set to empty".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const dbUri = e.MEMLANE_DB ?? defaultDbDir(env);
  return {
    dbUri,
    embedder: {
      provider: e.MEMLANE_EMBEDDER,
      ...(e.MEMLANE_EMBED_MODEL !== undefined && { model: e.MEMLANE_EMBED_MODEL }),
      ...(e.MEMLANE_EMBED_DIM !== undefined && { dim: e.MEMLANE_EMBED_DIM }),
      ...(e.OPENAI_API_KEY !== undefined && { apiKey: e.OPENAI_API_KEY }),
      ...(e.OPENAI_BASE_URL !== undefined && { baseURL: e.OPENAI_BASE_URL }),
      ...(e.MEMLANE_MODEL_DIR !== undefined && { modelDir: resolve(e.MEMLANE_MODEL_DIR) }),
      dtype: e.MEMLANE_EMBED_DTYPE,
      threads: e.MEMLANE_EMBED_THREADS ?? availableParallelism(),
      preload: e.MEMLANE_EMBED_PRELOAD === '1' || e.MEMLANE_EMBED_PRELOAD === 'true',
      // Under the data directory, beside the tables; an object-store database keeps it in the local default one.
      cacheDir: join(isLocalUri(dbUri) ? dbUri : defaultDbDir(env), 'models'),
      hubEndpoint: e.HF_ENDPOINT ?? DEFAULT_HUB,
      ...(e.HF_TOKEN !== undefined && { hubToken: e.HF_TOKEN }),
    },
    defaultAgent: e.MEMLANE_AGENT,
    ...(e.MEMLANE_SESSION_TOKEN !== undefined && { sessionToken: e.MEMLANE_SESSION_TOKEN }),
    requireToken: e.MEMLANE_REQUIRE_TOKEN === '1' || e.MEMLANE_REQUIRE_TOKEN === 'true',
    maxBatch: e.MEMLANE_MAX_BATCH,
    maintenanceIntervalMs: e.MEMLANE_MAINTENANCE_INTERVAL_MS,
    slowCallMs: e.MEMLANE_SLOW_CALL_MS,
    http: {
      ...(e.MEMLANE_ALLOWED_ORIGINS !== undefined && { allowedOrigins: parseOrigins(e.MEMLANE_ALLOWED_ORIGINS) }),
      maxBodyBytes: e.MEMLANE_MAX_BODY === undefined ? DEFAULT_MAX_BODY : parseBytes(e.MEMLANE_MAX_BODY),
      ...(e.MEMLANE_RATE_LIMIT !== undefined && { rateLimit: parseRate(e.MEMLANE_RATE_LIMIT) }),
    },
    store: {
      ...(e.MEMLANE_STORAGE_OPTIONS !== undefined && { storageOptions: e.MEMLANE_STORAGE_OPTIONS }),
      readOnly: e.MEMLANE_READ_ONLY === '1' || e.MEMLANE_READ_ONLY === 'true',
      singleWriter: e.MEMLANE_SINGLE_WRITER === '1' || e.MEMLANE_SINGLE_WRITER === 'true',
      leaseTtlMs: e.MEMLANE_LEASE_TTL_MS,
      readIntervalMs: e.MEMLANE_READ_INTERVAL_MS,
      releaseFreedMemory: e.MEMLANE_MALLOC_TRIM === '1' || e.MEMLANE_MALLOC_TRIM === 'true',
    },
  };
}

const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

/** `https://app.example.com, http://localhost:3000` → normalised origins. */
function parseOrigins(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      let url: URL;
      try {
        url = new URL(s);
      } catch {
        throw new ConfigError(`MEMLANE_ALLOWED_ORIGINS: "${s}" is not an origin like https://app.example.com`);
      }
      if (url.origin === 'null' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || s.replace(/\/$/, '') !== url.origin) {
        throw new ConfigError(`MEMLANE_ALLOWED_ORIGINS: "${s}" is not an origin like https://app.example.com (scheme, host and port only)`);
      }
      return url.origin;
    });
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2 };

/** `10485760`, `512KiB`, `10MiB`, `2MB` → bytes. */
export function parseBytes(value: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) * unit < 1) {
    throw new ConfigError(`MEMLANE_MAX_BODY: "${value}" is not a size like 10485760, 512KiB or 10MiB`);
  }
  return Number(m[1]) * unit;
}

const RATE_WINDOWS: Record<string, number> = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: 3600, hour: 3600 };

/** `600/min`, `20/s`, `5000/hour` → points per window. */
export function parseRate(value: string): { points: number; windowSeconds: number } {
  const m = /^(\d+)\s*\/\s*([a-z]+)$/i.exec(value.trim());
  const windowSeconds = m ? RATE_WINDOWS[m[2]!.toLowerCase()] : undefined;
  if (!m || windowSeconds === undefined || Number(m[1]) < 1) {
    throw new ConfigError(`MEMLANE_RATE_LIMIT: "${value}" is not a rate like 600/min, 20/s or 5000/hour`);
  }
  return { points: Number(m[1]), windowSeconds };
}
