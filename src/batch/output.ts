import { z } from 'zod';
import { errorCodes } from '../errors.js';

/** The per-item error object of contract §3 (advertised as `object`, see recordObject). */
export const itemErrorSchema = z.object({
  code: z.enum(errorCodes),
  message: z.string(),
  field: z.string().optional().describe('JSON path of the offending field, e.g. memories[3].confidence'),
});

/**
 * An object inside a result (a memory record, a search hit, an item error), as
 * the output schema advertises it: just an object. Their fields are contract
 * §2–§4's, typed in the code by memoryRecordSchema, the search hit schema and
 * itemErrorSchema (and checked against them in the tests); spelled out in
 * every tool's outputSchema they cost a seventh of each tools/list, which a
 * model reads on every call and never fills.
 */
export const recordObject = z.looseObject({});

/** Fields every per-item result has; tools add their own (memory, results, version …). */
export const baseResultShape = {
  index: z.number().int().describe("The item's position in the input array"),
  id: z.string().optional(),
  status: z.enum(['ok', 'error', 'skipped']),
  action: z.string().optional().describe('What happened: created, updated, deduplicated, unchanged, deleted, validated, found'),
  reason: z.string().optional().describe('Why an item was skipped, or how it was resolved'),
  error: recordObject.optional(),
};

/** The whole structuredContent of a batch tool. */
export function batchOutputSchema(resultShape: z.ZodRawShape) {
  return z.object({
    batch_id: z.string(),
    agent_id: z.string(),
    namespace: z.string(),
    session_id: z.string(),
    total: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    execution_ms: z.number(),
    validate_only: z.boolean(),
    results: z.array(z.object({ ...baseResultShape, ...resultShape })),
  });
}
