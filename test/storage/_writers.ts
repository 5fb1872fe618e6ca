/**
 * Several writer processes on one object store (issue 13): two memlane
 * servers on one s3:// (or s3+ddb://) database must neither lose nor
 * duplicate acknowledged writes, dedupe and expected_version must hold across
 * them, and a writer killed with SIGKILL while it holds the writer lease must
 * not stop the other for longer than the lease's time to live.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, chunks, cleanup, memoriesOf, type McpChild, type Result, runCli, startMcp } from '../durability/_util.js';
import { backend, type BackendName, leaseOf } from './backends.js';

const CALLS = 50;
const PER_CALL = 20;
const IN_FLIGHT = 3;
const TTL_MS = 3_000;

const envOf = (db: Record<string, string>, extra: Record<string, string> = {}) => ({
  ...db,
  MEMLANE_EMBED_DIM: '768',
  MEMLANE_MAINTENANCE_INTERVAL_MS: '0',
  MEMLANE_LOG_LEVEL: 'warn',
  MEMLANE_LEASE_TTL_MS: String(TTL_MS),
  ...extra,
});

async function writer(m: McpChild, tag: string, salt: string): Promise<{ contents: string[]; results: Result[] }> {
  const contents: string[] = [];
  const results: Result[] = [];
  let next = 0;
  const lane = async () => {
    for (;;) {
      const call = next++;
      if (call >= CALLS) return;
      const memories = Array.from({ length: PER_CALL }, (_, i) => ({ content: `writer ${tag} call ${call} item ${i} salt ${salt}: the ${tag}${call}x${i} lamp` }));
      // The longest deadline a call may ask: on a loaded 2-core machine a call on s3+ddb can queue behind
      // the other writer's lease for more than the default 30 s (a TIMEOUT writes nothing, but this test wants every item).
      const out = await m.ok('batch_remember', { memories, options: { timeout_ms: 60_000 } });
      out.results.forEach((r: Result, i: number) => {
        contents[call * PER_CALL + i] = memories[i]!.content;
        results[call * PER_CALL + i] = r;
      });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { contents, results };
}

async function statsOf(env: Record<string, string>) {
  const run = await runCli(['stats', '--json'], env, 60_000);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { agents: { agent_id: string; memories: number }[] };
}

export const writersSuite = (name: BackendName) =>
  describe(`several writers on ${name}`, () => {
    beforeAll(() => assertBuilt());
    afterEach(async () => cleanup());

    it('2 processes × 50 concurrent batch_remember calls × 20 items: 2000 rows, every acknowledged item present once', { timeout: 400_000 }, async () => {
      // Background maintenance on (through the maintenance lease), as a team's servers run: each process
      // catches up on the other's writes by reading past fragments, which compaction keeps few.
      const env = envOf(await backend(name).fresh(), { MEMLANE_MAINTENANCE_INTERVAL_MS: '1000' });
      const salt = randomBytes(4).toString('hex');
      const [a, b] = await Promise.all([startMcp(env), startMcp(env)]);
      const [ra, rb] = await Promise.all([writer(a, 'A', salt), writer(b, 'B', salt)]);
      const all = [...ra.results, ...rb.results];
      const contents = [...ra.contents, ...rb.contents];
      const bad = all.filter((r) => r.status !== 'ok' || r.action !== 'created');
      expect(bad.slice(0, 5), `${bad.length} items not ok/created; stderr A:\n${a.stderr()}\nstderr B:\n${b.stderr()}`).toEqual([]);
      const ids = all.map((r) => r.id!);
      expect(new Set(ids).size).toBe(2 * CALLS * PER_CALL);
      await Promise.all([a.close(), b.close()]);
      expect(await leaseOf(env), 'a cleanly closed writer leaves no lease behind').toBeUndefined();

      const c = await startMcp(env);
      for (const [k, part] of chunks(ids, 100).entries()) {
        const got = await c.ok('batch_get', { ids: part });
        got.results.forEach((r: Result & { memory: { content: string } }, i: number) => {
          expect(r.status).toBe('ok');
          expect(r.memory.content).toBe(contents[k * 100 + i]);
        });
      }
      await c.close();
      const s = await statsOf(env);
      expect(memoriesOf(s as never, 'default')).toBe(2 * CALLS * PER_CALL);
    });

    it('dedupe and expected_version hold across the two processes', { timeout: 120_000 }, async () => {
      const env = envOf(await backend(name).fresh());
      const [a, b] = await Promise.all([startMcp(env), startMcp(env)]);
      const salt = randomBytes(6).toString('hex');
      const contents = Array.from({ length: 30 }, (_, i) => `shared fact ${i} ${salt}: the ferry to isle ${i} leaves at ${i + 6} am`);
      const variant = contents.map((c) => `  ${c.toUpperCase()} `);
      const [ra, rb] = await Promise.all([
        a.ok('batch_remember', { memories: contents.map((content) => ({ content })) }),
        b.ok('batch_remember', { memories: variant.map((content) => ({ content })) }),
      ]);
      for (let i = 0; i < 30; i++) {
        expect([ra.results[i].action, rb.results[i].action].sort()).toEqual(['created', 'deduplicated']);
        expect(rb.results[i].id).toBe(ra.results[i].id);
      }
      // Both update one memory expecting version 1: exactly one wins.
      const id = ra.results[0].id as string;
      const [ua, ub] = await Promise.all([
        a.ok('batch_update', { updates: [{ id, importance: 0.1, expected_version: 1 }] }),
        b.ok('batch_update', { updates: [{ id, importance: 0.9, expected_version: 1 }] }),
      ]);
      const outcomes = [ua.results[0], ub.results[0]].map((r: Result) => (r.status === 'ok' ? 'updated' : r.error!.code)).sort();
      expect(outcomes).toEqual(['VERSION_CONFLICT', 'updated']);
      await Promise.all([a.close(), b.close()]);
      const s = await statsOf(env);
      expect(memoriesOf(s as never, 'default')).toBe(30);
    });

    it('a writer SIGKILLed while holding the lease: the other takes over after the lease expires, and nothing acknowledged is lost', { timeout: 120_000 }, async () => {
      const env = envOf((await backend(name).fresh()), { MEMLANE_AGENT: 'killer' });
      const acked: string[][] = [];
      const unacked: string[][] = [];
      let attempts = 0;
      for (;;) {
        attempts++;
        const victim = await startMcp(env);
        let killed = false;
        let call = 0;
        const lane = async () => {
          for (;;) {
            const ids = Array.from({ length: PER_CALL }, (_, i) => `k${attempts}-${call}-${i}`);
            const memories = ids.map((id) => ({ id, content: `attempt ${attempts} call ${call} ${id}: the weather vane points north` }));
            call++;
            try {
              const res = await victim.call('batch_remember', { memories });
              const out = res.structuredContent as { results: Result[] };
              expect(out.results.every((r) => r.status === 'ok'), JSON.stringify(res).slice(0, 400)).toBe(true);
              acked.push(ids);
            } catch (err) {
              if (!killed || !(err instanceof McpError && err.code === ErrorCode.ConnectionClosed)) throw err;
              unacked.push(ids);
              return;
            }
          }
        };
        const before = acked.length;
        const lanes = Promise.all([lane(), lane()]);
        // The stdio server answers the handshake before it opens the store, so wait for
        // its first acknowledged write: a kill during the open would catch no lease.
        while (acked.length === before) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 400));
        killed = true;
        victim.child.kill('SIGKILL');
        await victim.exit;
        await lanes;
        if ((await leaseOf(env)) !== undefined) break;
        expect(attempts, 'could not catch the writer while it held the lease').toBeLessThan(10);
      }
      const holder = JSON.parse((await leaseOf(env))!) as { pid: number };

      const next = await startMcp(env);
      const w = await next.ok('batch_remember', { memories: [{ id: 'after-the-kill', content: 'written after the lease lapsed' }] });
      expect(w.results[0]).toMatchObject({ status: 'ok', action: 'created' });
      expect(next.stderr()).toMatch(new RegExp(`took over the write lease .*process ${holder.pid} .* did not renew it`));
      for (const ids of acked) {
        const got = await next.ok('batch_get', { ids });
        expect(got.succeeded, `acknowledged call ${ids[0]} lost items`).toBe(PER_CALL);
      }
      let present = acked.length * PER_CALL + 1;
      for (const ids of unacked) {
        const n = (await next.ok('batch_get', { ids })).succeeded as number;
        expect([0, PER_CALL]).toContain(n);
        present += n;
      }
      await next.close();
      const s = await statsOf(env);
      expect(memoriesOf(s as never, 'killer')).toBe(present);
    });
  });
