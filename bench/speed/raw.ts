/**
 * Raw LanceDB doing the retrieval memlane does, in this process, with nothing
 * around it: a table of the same memories and vectors (memlane's own local
 * embedder), a full-text index with memlane's tokenizer settings, rows appended
 * `batch` at a time, then `optimize()` (compaction and index folding, as
 * `memlane compact` does). Per query: a full-text query, a cosine vector query
 * (its query embedded here, inside the timing), or both at once for `hybrid`
 * (fused by reciprocal rank, only so hit@10 can be counted); a 10-query call
 * runs its queries concurrently. Top 10, no filter, no record read: the floor
 * memlane's overhead is measured against.
 */
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Schema, Utf8 } from 'apache-arrow';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEmbedder } from '../../src/embed/local.js';
import type { Emit, Log, Mode, Workload } from './cases.js';
import { type BenchQuery, memoryAt } from './corpus.js';
import { ingestSeries, searchSeries } from './series.js';
import { bytesOnDisk, round } from './stats.js';

/** memlane's full-text settings (src/store/text.ts), spelt out so that a change there does not silently move the floor. */
const FTS = { baseTokenizer: 'simple', language: 'English', lowercase: true, stem: true, removeStopWords: true, asciiFolding: true, withPosition: false } as const;
const LIMIT = 10;
const RRF_K = 60;

/** As memlane cleans a full-text query: letters, digits and spaces only. */
const ftsText = (q: string) =>
  q
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}\s]+/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();

export async function benchRaw(w: Workload, opts: { keep: boolean }, emit: Emit, log: Log): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `lancedb-raw-bench-${w.n}-`));
  const base = { system: 'lancedb-raw', transport: 'inproc', n: w.n } as const;
  const tag = `[lancedb-raw n=${w.n}]`;
  const embedder = new LocalEmbedder();
  const db = await lancedb.connect(dir);
  try {
    const schema = new Schema([
      new Field('id', new Utf8(), false),
      new Field('content', new Utf8(), false),
      new Field('vector', new FixedSizeList(embedder.dim, new Field('item', new Float32(), true)), false),
    ]);
    const table = await db.createEmptyTable('memories', schema, { mode: 'create' });
    await table.createIndex('content', { config: lancedb.Index.fts(FTS) });

    const ingest = await ingestSeries(
      w.n,
      w.batch,
      (from, to) => Array.from({ length: to - from }, (_, j) => ({ id: `m${from + j}`, content: memoryAt(w.seed, from + j).content })),
      async (rows) => {
        const vectors = await embedder.embed(rows.map((r) => r.content));
        await table.add(rows.map((r, j) => ({ ...r, vector: Array.from(vectors[j]!) })));
        return 0;
      },
      (done) => log(`${tag} ingest ${done}/${w.n}`),
    );
    emit({ ...base, case: 'ingest', batch: w.batch, ...ingest });
    const bytesAfterIngest = bytesOnDisk(dir);
    const t0 = performance.now();
    // deleteUnverified: the floor keeps nothing but the live table on disk.
    await table.optimize({ cleanupOlderThan: new Date(), deleteUnverified: true });
    emit({ ...base, case: 'compact', seconds: round((performance.now() - t0) / 1000, 3) });
    emit({ ...base, case: 'disk', bytes_after_ingest: bytesAfterIngest, bytes_settled: bytesOnDisk(dir) });

    const text = async (q: string): Promise<string[]> => {
      const t = ftsText(q);
      if (t === '') return [];
      const rows = await table.query().fullTextSearch(t, { columns: 'content' }).select(['id', 'content', '_score']).limit(LIMIT).toArray();
      return rows.map((r) => String(r.id));
    };
    const vector = async (q: string): Promise<string[]> => {
      const [v] = await embedder.embed([q]);
      const rows = await table.vectorSearch(v!).distanceType('cosine').select(['id', 'content', '_distance']).limit(LIMIT).toArray();
      return rows.map((r) => String(r.id));
    };
    const retrieve: Record<Mode, (q: string) => Promise<string[]>> = {
      text,
      vector,
      hybrid: async (q) => fuse(await Promise.all([text(q), vector(q)])),
    };
    const idOf = (i: number) => `m${i}`;
    for (const mode of w.modes) {
      for (const [perCall, groups] of [
        [1, w.single.map((q) => [q])],
        [w.batched[0]?.length ?? 0, w.batched],
      ] as const) {
        if (groups.length === 0) continue;
        log(`${tag} search ${mode} ×${perCall}`);
        const r = await searchSeries(w, groups, idOf, (qs: BenchQuery[]) => Promise.all(qs.map((q) => retrieve[mode](q.query))));
        emit({ ...base, case: 'search', state: 'settled', mode, queries_per_call: perCall, ...r });
      }
    }
    table.close();
  } finally {
    db.close();
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else log(`${tag} kept ${dir}`);
  }
}

/** Reciprocal-rank fusion of ranked id lists, top LIMIT. */
function fuse(lists: string[][]): string[] {
  const score = new Map<string, number>();
  for (const ids of lists) ids.forEach((id, rank) => score.set(id, (score.get(id) ?? 0) + 1 / (RRF_K + rank + 1)));
  return [...score.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, LIMIT)
    .map(([id]) => id);
}
