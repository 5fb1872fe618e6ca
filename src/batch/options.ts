import { z } from 'zod';

/** The options every batch tool takes (contract §3). */
export const commonOptions = {
  continue_on_error: z
    .boolean()
    .default(true)
    .describe('false: stop at a failure'),
  atomic: z
    .boolean()
    .default(false)
    .describe('true: all or nothing'),
  validate_only: z
    .boolean()
    .default(false)
    .describe('true: write nothing'),
  batch_id: z
    .string()
    .regex(/^[\w.:-]{1,128}$/, 'batch_id must be 1–128 characters of A-Z a-z 0-9 . _ : -')
    .optional()
    .describe('Echoed back'),
  timeout_ms: z
    .number()
    .int()
    .min(1)
    .max(60_000)
    .default(30_000)
    .describe('Then TIMEOUT'),
};

export const maxRetriesOption = z
  .number()
  .int()
  .min(0)
  .max(10)
  .default(2)
  .describe('Embedder retries');

export type CommonOptions = {
  continue_on_error: boolean;
  atomic: boolean;
  validate_only: boolean;
  batch_id?: string | undefined;
  timeout_ms: number;
};
