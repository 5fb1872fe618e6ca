import { defineTool, type Outcome } from '../batch/tool.js';
import { ErrorCode, itemError } from '../errors.js';
import { memoryRecordSchema, toRecord } from '../model.js';
import * as f from './fields.js';

export const getTool = defineTool<string, Record<string, never>>({
  name: 'batch_get',
  title: 'Get memories',
  description:
    'Read 1–{max} memories by id in one call, each with every field (content, tags, metadata, version, timestamps …). ' +
    'Unknown or expired ids report NOT_FOUND. One result per id, in input order.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  itemsKey: 'ids',
  itemsDescription: 'Ids of the memories to read, 1 to {max}',
  itemSchema: f.memoryId,
  options: {},
  resultShape: { memory: memoryRecordSchema.optional().describe('The whole memory record') },
  idOf: (id) => id,

  async run(items, ctx) {
    const found = await ctx.services.store.getMany(ctx.scope.namespace, items.map((i) => i.item), ctx.now);
    ctx.progress.advance('read', items.length);
    const outcomes = new Map<number, Outcome>();
    for (const { index, item: id } of items) {
      const memory = found.get(id);
      outcomes.set(
        index,
        memory
          ? { status: 'ok', id, action: 'found', extra: { memory: toRecord(memory) } }
          : { status: 'error', id, error: itemError(ErrorCode.NotFound, `no memory with id "${id}"`, `ids[${index}]`) },
      );
    }
    return outcomes;
  },
});
