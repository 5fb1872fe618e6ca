import { z } from 'zod';

/** The options every batch tool takes (contract §3). */
export const commonOptions = {
  continue_on_error: z
    .boolean()
    .default(true)
    .describe('false: after the first failed item, the remaining items are skipped (default true)'),
  atomic: z
    .boolean()
    .default(false)
    .describe('true: every item is checked first; if any fails, nothing is written and every item reports why or "skipped"'),
  validate_only: z
    .boolean()
    .default(false)
    .describe('true: validate and resolve every item but write nothing; items report action "validated"'),
  batch_id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'batch_id must be 1–128 characters of A-Z a-z 0-9 . _ : -')
    .optional()
    .describe('Your id for this call, echoed back for tracing (default: server-made bat_<ULID>)'),
  timeout_ms: z
    .number()
    .int()
    .min(1)
    .max(60_000)
    .default(30_000)
    .describe('Items not finished within this many ms report TIMEOUT; nothing is half-written (default 30000, max 60000)'),
};

export const maxRetriesOption = z
  .number()
  .int()
  .min(0)
  .max(10)
  .default(2)
  .describe('Retries of the embedding provider on rate limits, server errors and timeouts (default 2)');

export type CommonOptions = {
  continue_on_error: boolean;
  atomic: boolean;
  validate_only: boolean;
  batch_id?: string | undefined;
  timeout_ms: number;
};
