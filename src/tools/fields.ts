import { z } from 'zod';
import { LIMITS, MEMORY_ID_PATTERN } from '../model.js';

/**
 * One zod schema per field of contract §2, each with the description a model
 * reads when it fills the tool. Tool item schemas are built from these.
 */
export const memoryId = z
  .string()
  .regex(MEMORY_ID_PATTERN, 'id must be 1–128 characters of A-Z a-z 0-9 . _ : -')
  .describe('Memory id: 1–128 characters of A-Z a-z 0-9 . _ : -');

export const content = z
  .string()
  .trim()
  .min(1, 'content must not be empty')
  .max(LIMITS.contentChars, `content must be at most ${LIMITS.contentChars} characters`)
  .describe('The memory itself, as a self-contained statement (1–32,768 characters after trimming)');

/** NUL cannot appear in a SQL string literal, and these values are filtered on. */
const noNul = (s: string) => !s.includes('\u0000');
const noNulMessage = 'must not contain the NUL character (\\u0000)';

export const type = z
  .string()
  .trim()
  .min(1)
  .max(LIMITS.typeChars)
  .refine(noNul, noNulMessage)
  .describe('Kind of memory, e.g. fact, preference, event, instruction, semantic, episodic (1–32 characters)');

export const title = z.string().max(LIMITS.titleChars).describe('Optional short title (≤ 200 characters); searched with the content');

export const tags = z
  .array(z.string().min(1).max(LIMITS.tagChars).refine(noNul, noNulMessage))
  .max(LIMITS.tags)
  .transform((t) => [...new Set(t)])
  .describe('Up to 32 labels of 1–64 characters each; duplicates are dropped, order kept');

const metadataObject = z.record(z.string(), z.unknown());

export const metadata = metadataObject
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= LIMITS.metadataBytes, {
    message: `metadata must be at most ${LIMITS.metadataBytes} bytes as JSON`,
    params: { payloadTooLarge: true },
  })
  .describe('Any JSON object (≤ 16 KiB as JSON); top-level keys can be matched exactly in batch_search filters');

export const metadataPatch = metadataObject
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= LIMITS.metadataBytes, {
    message: `metadata must be at most ${LIMITS.metadataBytes} bytes as JSON`,
    params: { payloadTooLarge: true },
  })
  .describe('JSON Merge Patch (RFC 7386) applied to the stored metadata: keys set to null are removed, objects merge');

const unit = (what: string) => z.number().min(0).max(1).describe(what);
export const confidence = unit('How sure the agent is that this is true, 0–1 (default 0.8)');
export const importance = unit('How much this matters for future work, 0–1 (default 0.5); can boost ranking');

const label = (what: string) => z.string().trim().min(1).max(LIMITS.stringChars).refine(noNul, noNulMessage).describe(what);

/** A short string that reaches a SQL filter (search filter values). */
export const filterString = z.string().min(1).max(LIMITS.stringChars).refine(noNul, noNulMessage);
export const source = label('Where the memory came from (default "agent"), e.g. user, agent, tool, import');
export const provenance = label('How it was learned (default "explicit_statement"), e.g. inferred, observed');

export const pinned = z.boolean().describe('Pinned memories are always worth keeping; can boost ranking (default false)');
export const immutable = z
  .boolean()
  .describe('Immutable memories are updated and deleted only with options.force (default false)');

export const expiresAt = z.iso
  .datetime({ offset: true })
  .nullable()
  .describe('ISO-8601 time after which the memory is never returned; null = never expires');

export const ttlSeconds = z
  .number()
  .int()
  .min(1)
  .max(LIMITS.maxTtlSeconds)
  .describe('Instead of expires_at: seconds from now until the memory expires');

export const expectedVersion = z
  .number()
  .int()
  .min(1)
  .describe('Optimistic concurrency: the update fails with VERSION_CONFLICT unless the stored version equals this');

/** Caller-supplied vectors: checked against the database's dimension when the call runs. */
export const embedding = z
  .array(z.number())
  .min(1)
  .max(8192)
  .describe("Your own embedding for this content (exactly the database's dimension, finite numbers); then memlane embeds nothing");
