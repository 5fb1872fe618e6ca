import { z } from 'zod';
import { LIMITS, MEMORY_ID_PATTERN } from '../model.js';

/**
 * One zod schema per field of contract §2, each with the description a model
 * reads when it fills the tool. Tool item schemas are built from these.
 */
export const memoryId = z
  .string()
  .regex(MEMORY_ID_PATTERN, 'id must be 1–128 characters of A-Z a-z 0-9 . _ : -')
  .describe('Memory id');

export const content = z
  .string()
  .trim()
  .min(1, 'content must not be empty')
  .max(LIMITS.contentChars, `content must be at most ${LIMITS.contentChars} characters`)
  .describe('One self-contained statement');

/** NUL cannot appear in a SQL string literal, and these values are filtered on. */
const noNul = (s: string) => !s.includes('\u0000');
const noNulMessage = 'must not contain the NUL character (\\u0000)';

export const type = z
  .string()
  .trim()
  .min(1)
  .max(LIMITS.typeChars)
  .refine(noNul, noNulMessage)
  .describe('fact, preference, event …');

export const title = z.string().max(LIMITS.titleChars).describe('Searched too');

export const tags = z
  .array(z.string().min(1).max(LIMITS.tagChars).refine(noNul, noNulMessage))
  .max(LIMITS.tags)
  .transform((t) => [...new Set(t)])
  .describe('Labels (duplicates dropped)');

const metadataObject = z.record(z.string(), z.unknown());

export const metadata = metadataObject
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= LIMITS.metadataBytes, {
    message: `metadata must be at most ${LIMITS.metadataBytes} bytes as JSON`,
    params: { payloadTooLarge: true },
  })
  .describe('≤ 16 KiB of JSON');

export const metadataPatch = metadataObject
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= LIMITS.metadataBytes, {
    message: `metadata must be at most ${LIMITS.metadataBytes} bytes as JSON`,
    params: { payloadTooLarge: true },
  })
  .describe('Merge patch, ≤ 16 KiB: null removes')

const unit = (what: string) => z.number().min(0).max(1).describe(what);
export const confidence = unit('How sure it is true');
export const importance = unit('How much it matters');

const label = (what: string) => z.string().trim().min(1).max(LIMITS.stringChars).refine(noNul, noNulMessage).describe(what);

/** A short string that reaches a SQL filter (search filter values). */
export const filterString = z.string().min(1).max(LIMITS.stringChars).refine(noNul, noNulMessage);
export const source = label('user, agent, tool …');
export const provenance = label('inferred, observed …');

export const pinned = z.boolean().describe('Always worth keeping');
export const immutable = z
  .boolean()
  .describe('Update and delete need force');

export const expiresAt = z.iso
  .datetime({ offset: true })
  .nullable()
  .describe('null: never');

export const ttlSeconds = z
  .number()
  .int()
  .min(1)
  .max(LIMITS.maxTtlSeconds)
  .describe('Or: seconds to live');

export const expectedVersion = z
  .number()
  .int()
  .min(1)
  .describe('Else VERSION_CONFLICT');

/** Caller-supplied vectors: checked against the database's dimension when the call runs. */
export const embedding = z
  .array(z.number())
  .min(1)
  .max(8192)
  .describe('Your own vector');

const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * A search time bound (created_after / created_before): an ISO-8601 date-time,
 * or a plain date that names a whole UTC day, included at both ends, so that
 * `created_after: D, created_before: D` is that day. The value handed on is
 * always a date-time for the store's strict comparisons: after D → after the
 * last millisecond before D; before D → before the start of the next day.
 */
const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });
const timeBoundMessage = 'must be a date (2026-12-02) or an ISO-8601 date-time (2026-12-02T09:30:00Z)';

export const timeBound = (side: 'after' | 'before') =>
  z
    .string()
    .regex(/^\d{4}-\d\d-\d\d(T.+)?$/, { error: timeBoundMessage, abort: true })
    .refine((v) => isoDate.safeParse(v).success || isoDateTime.safeParse(v).success, timeBoundMessage)
    .transform((v) => (PLAIN_DATE.test(v) ? new Date(Date.parse(v) + (side === 'after' ? -1 : DAY_MS)).toISOString() : v));
