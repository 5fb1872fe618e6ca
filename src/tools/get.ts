import { defineTool, type Outcome } from '../batch/tool.js';
import { ErrorCode, itemError } from '../errors.js';
import { recordObject } from '../batch/output.js';
import { toRecord } from '../model.js';
import * as f from './fields.js';

export const getTool = defineTool<string, Record<string, never>>({
  name: 'batch_get',
  title: 'Get memories',
  description:
    'Read 1–{max} whole memories by id (every field, version, timestamps). Unknown or expired ids report NOT_FOUND.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  itemsKey: 'ids',
  itemsDescription: 'Ids to read',
  itemSchema: f.memoryId,
  options: {},
  resultShape: { memory: recordObject.optional().describe('The whole memory record') },
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
