import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { agentIdSchema } from './scope/ids.js';

/** Environment → one typed, validated Config (contract §5). */
const envSchema = z.object({
  MEMLANE_DB: z.string().min(1).optional(),
  MEMLANE_EMBEDDER: z.enum(['local', 'openai']).default('local'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  MEMLANE_EMBED_MODEL: z.string().min(1).optional(),
  MEMLANE_EMBED_DIM: z.coerce.number().int().min(8).max(8192).optional(),
  MEMLANE_AGENT: agentIdSchema.default('default'),
  MEMLANE_SESSION_TOKEN: z.string().optional(),
  MEMLANE_REQUIRE_TOKEN: z.enum(['0', '1', 'true', 'false']).default('0'),
  MEMLANE_MAX_BATCH: z.coerce.number().int().min(1).max(500).default(100),
  MEMLANE_MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
});

export interface Config {
  dbUri: string;
  embedder: {
    provider: 'local' | 'openai';
    model?: string;
    dim?: number;
    apiKey?: string;
    baseURL?: string;
  };
  defaultAgent: string;
  sessionToken?: string;
  requireToken: boolean;
  maxBatch: number;
  /** How often the background maintainer looks at fragment/version counts; 0 turns it off. */
  maintenanceIntervalMs: number;
}

export function defaultDbDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'memlane');
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty variables (`FOO=` in a client config) mean "not set", not "set to empty".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    dbUri: e.MEMLANE_DB ?? defaultDbDir(env),
    embedder: {
      provider: e.MEMLANE_EMBEDDER,
      ...(e.MEMLANE_EMBED_MODEL !== undefined && { model: e.MEMLANE_EMBED_MODEL }),
      ...(e.MEMLANE_EMBED_DIM !== undefined && { dim: e.MEMLANE_EMBED_DIM }),
      ...(e.OPENAI_API_KEY !== undefined && { apiKey: e.OPENAI_API_KEY }),
      ...(e.OPENAI_BASE_URL !== undefined && { baseURL: e.OPENAI_BASE_URL }),
    },
    defaultAgent: e.MEMLANE_AGENT,
    ...(e.MEMLANE_SESSION_TOKEN !== undefined && { sessionToken: e.MEMLANE_SESSION_TOKEN }),
    requireToken: e.MEMLANE_REQUIRE_TOKEN === '1' || e.MEMLANE_REQUIRE_TOKEN === 'true',
    maxBatch: e.MEMLANE_MAX_BATCH,
    maintenanceIntervalMs: e.MEMLANE_MAINTENANCE_INTERVAL_MS,
  };
}
