/**
 * A process that lost its write lock must stop writing (issue 8): when the
 * lock is taken over while a call holds it, the call's commit is refused
 * (STORAGE_ERROR, nothing written), and the process writes again once it
 * holds the lock again.
 *
 * The takeover happens at a real point inside a call holding the lock: a
 * batch_update whose memory another server changed between the update's
 * first read and its lock must embed again under the lock, and the test's
 * embedder takes the lock away from it at that moment (as a process on
 * another machine would after a lost heartbeat).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbedOptions, Embedder } from '../../src/embed/embedder.js';
import { LocalEmbedder } from '../../src/embed/local.js';
import { StorageError } from '../../src/errors.js';
import { type Harness, startHarness, tempDir } from '../helpers/harness.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

/** Replaces the lock directory with one owned by another (live, remote) process. */
function takeOver(db: string): void {
  const lockDir = join(db, 'memlane-write.lock');
  renameSync(lockDir, `${lockDir}.robbed`);
  mkdirSync(lockDir);
  writeFileSync(join(lockDir, 'owner'), JSON.stringify({ pid: 1, host: `not-${hostname()}`, start: null, nonce: 'somebody-else' }));
}

const giveBack = (db: string) => {
  rmSync(join(db, 'memlane-write.lock'), { recursive: true, force: true });
  rmSync(join(db, 'memlane-write.lock.robbed'), { recursive: true, force: true });
};

describe('a compromised write lock', () => {
  it('a call whose lock was taken over reports STORAGE_ERROR and writes nothing; the next call writes again', async () => {
    const dir = tempDir();
    let onEmbed: ((texts: readonly string[]) => Promise<void>) | undefined;
    const local = new LocalEmbedder();
    const trap: Embedder = {
      provider: local.provider,
      model: local.model,
      dim: local.dim,
      async embed(texts: readonly string[], _opts?: EmbedOptions) {
        await onEmbed?.(texts);
        return local.embed(texts);
      },
    };
    const a = await startHarness({ dir, embedder: trap });
    open.push(a);
    const b = await startHarness({ dir });
    open.push(b);
    await a.ok('batch_remember', { memories: [{ id: 'm', content: 'the original words' }] });

    let stage = 0;
    onEmbed = async (texts) => {
      if (stage === 0 && texts.some((t) => t.includes('the original words'))) {
        // A's first embedding, before its lock: B changes the content meanwhile.
        stage = 1;
        const out = await b.ok('batch_update', { updates: [{ id: 'm', content: 'words changed by the other server' }] });
        expect(out.results[0].version).toBe(2);
      } else if (stage === 1 && texts.some((t) => t.includes('words changed by the other server'))) {
        // A embeds again under its lock: now the lock is taken from it.
        stage = 2;
        takeOver(dir);
      }
    };
    const out = await a.ok('batch_update', { updates: [{ id: 'm', title: 'a title from A' }] });
    expect(stage).toBe(2);
    expect(out.results[0].status).toBe('error');
    expect(out.results[0].error.code).toBe('STORAGE_ERROR');
    expect(out.results[0].error.message).toMatch(/write lock was (taken over|lost).*nothing was written/);

    giveBack(dir);
    onEmbed = undefined;
    // Nothing of A's update was written: B's version is the latest.
    const got = await b.ok('batch_get', { ids: ['m'] });
    expect(got.results[0].memory).toMatchObject({ version: 2, title: null, content: 'words changed by the other server' });

    // Holding the lock again, A writes.
    const again = await a.ok('batch_update', { updates: [{ id: 'm', title: 'a title from A' }] });
    expect(again.results[0]).toMatchObject({ status: 'ok', action: 'updated', version: 3 });
  });

  it('a commit of any kind is refused once the lock is lost (store level: upsert, delete, meta)', async () => {
    const dir = tempDir();
    const h = await startHarness({ dir });
    open.push(h);
    await h.ok('batch_remember', { memories: [{ id: 'keep', content: 'kept safe' }] });
    const { store, db } = h.app;
    const current = (await store.getMany('agent:default', ['keep'], Date.now(), { withVector: true })).get('keep')!;
    await expect(
      store.exclusive(async () => {
        takeOver(dir);
        await store.upsert([{ ...current, content: 'overwritten by a robbed holder', version: 9 }]);
      }),
    ).rejects.toBeInstanceOf(StorageError);
    giveBack(dir);
    await expect(
      store.exclusive(async () => {
        takeOver(dir);
        await store.delete('agent:default', ['keep']);
      }),
    ).rejects.toThrow(/taken over/);
    giveBack(dir);
    await expect(
      db.lock.run(async () => {
        takeOver(dir);
        await db.setMeta({ probe: 'x' });
      }),
    ).rejects.toThrow(/taken over/);
    giveBack(dir);
    const got = await h.ok('batch_get', { ids: ['keep'] });
    expect(got.results[0].memory).toMatchObject({ content: 'kept safe', version: 1 });
    expect(await db.getMeta('probe')).toBeUndefined();
  });

  it('writing outside the lock is refused outright', async () => {
    const h = await startHarness();
    open.push(h);
    await expect(h.app.db.setMeta({ probe: 'x' })).rejects.toThrow(/without holding the write lock/);
  });
});
