import { z } from 'zod';
import { defineTool, type Outcome } from '../batch/tool.js';
import { ErrorCode, itemError } from '../errors.js';
import * as f from './fields.js';

export const deleteItemSchema = f.memoryId;

export const deleteTool = defineTool<string, { force: boolean }>({
  name: 'batch_delete',
  title: 'Delete memories',
  description:
    'Delete 1–{max} memories by id, gone at once from every read. Immutable ones need options.force (else IMMUTABLE); ' +
    'unknown ids: NOT_FOUND.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  itemsKey: 'ids',
  itemsDescription: 'Ids to delete',
  itemSchema: deleteItemSchema,
  options: { force: z.boolean().default(false).describe('true: delete immutable ones too') },
  resultShape: {},
  idOf: (id) => id,

  async run(items, ctx) {
    const { store } = ctx.services;
    const { scope, now } = ctx;
    return store.exclusive(async () => {
      const current = await store.getMany(scope.namespace, items.map((i) => i.item), now);
      const outcomes = new Map<number, Outcome>();
      for (const { index, item: id } of items) {
        const memory = current.get(id);
        if (!memory) outcomes.set(index, { status: 'error', id, error: itemError(ErrorCode.NotFound, `no memory with id "${id}"`, `ids[${index}]`) });
        else if (memory.immutable && !ctx.options.force) {
          outcomes.set(index, { status: 'error', id, error: itemError(ErrorCode.Immutable, `memory ${id} is immutable; pass options.force = true to delete it`, `ids[${index}]`) });
        } else outcomes.set(index, { status: 'ok', id, action: 'deleted' });
      }
      const writable = ctx.settle(outcomes);
      ctx.deadline.check('commit');
      await store.delete(scope.namespace, items.filter((i) => writable.has(i.index)).map((i) => i.item));
      ctx.progress.advance('written', writable.size);
      return outcomes;
    }, { deadlineAt: ctx.deadline.at });
  },
});
