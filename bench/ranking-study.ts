/**
 * How the vector evidence should enter the ranking for an embedder kind
 * (src/store/search.ts, RankingProfile), measured on the LoCoMo dev split by
 * leave-one-conversation-out: for each conversation, the profile that scores
 * best on the other three is scored on it, so no value is chosen on the
 * conversation it is measured on.
 *
 * The conversations are stored through MCP exactly as `npm run bench:quality`
 * stores them; the questions are embedded once and then ranked by the real
 * Searcher under every profile of the grid (no MCP per grid point, same code).
 *
 * Usage: npm run bench:ranking [-- --embedder transformers|local] [--modes vector,hybrid] [--data FILE]
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createServer } from '../src/server.js';
import { type RankingProfile, type SearchMode, Searcher, rankingProfile } from '../src/store/search.js';
import { DEFAULT_DATA, Scorer, agentOf, callerOf, loadConversations, storeConversation, testModelDir, type Recall } from './quality.js';

type Grid = Array<{ name: string; profile: RankingProfile }>;

/** The values tried, around the current profile of the kind. */
function grid(base: RankingProfile, mode: SearchMode): Grid {
  const out: Grid = [];
  if (mode === 'vector') {
    for (const vectorSharpness of [0.03, 0.05, 0.07, 0.1, 0.15])
      for (const vectorForwardWeight of [0, 0.2, 0.3, 0.5])
        for (const vectorBackwardWeight of [0, 0.1, 0.2, 0.3])
          out.push({ name: `tau ${vectorSharpness} fwd ${vectorForwardWeight} back ${vectorBackwardWeight}`, profile: { ...base, vectorSharpness, vectorForwardWeight, vectorBackwardWeight } });
  } else {
    for (const hybridLending of [false, true])
      for (const vectorFloor of [0, 0.1, 0.2, 0.3, 0.4])
        for (const vectorScale of [0.1, 0.2, 0.3, 0.5, 0.8, 1])
          out.push({ name: `floor ${vectorFloor} scale ${vectorScale}${hybridLending ? ' lending' : ''}`, profile: { ...base, vectorFloor, vectorScale, hybridLending } });
  }
  return out;
}

const objective = (r: Recall): number => r.hit[1] + r.hit[5] + r.hit[10];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { embedder: { type: 'string', default: 'transformers' }, data: { type: 'string' }, modes: { type: 'string', default: 'vector,hybrid' } } });
  const embedder = values.embedder!;
  const env: Record<string, string> = { MEMLANE_EMBEDDER: embedder, ...(embedder === 'transformers' && { MEMLANE_MODEL_DIR: testModelDir() }) };
  const convs = loadConversations(values.data ?? DEFAULT_DATA);
  const dir = mkdtempSync(join(tmpdir(), 'memlane-ranking-'));
  const app = await openApp(loadConfig({ ...process.env, MEMLANE_DB: dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0', ...env }), { maintenance: false });
  const server = createServer(app, {});
  const [c, s] = InMemoryTransport.createLinkedPair();
  await server.connect(s);
  const client = new Client({ name: 'memlane-ranking-study', version: '1' });
  await client.connect(c);
  const log = (l: string) => process.stderr.write(`${l}\n`);
  try {
    for (const conv of convs) await storeConversation(app, callerOf(client), conv, false);
    await app.maintainer.compactAll();
    const vectors = new Map<string, Float32Array[]>();
    for (const conv of convs) vectors.set(conv.conv_id, await app.embedder.embed(conv.queries.map((q) => q.question), { kind: 'query' }));
    log(`stored and embedded ${convs.length} conversations with ${app.embedder.provider}/${app.embedder.model}`);

    const base = rankingProfile(app.embedder.provider);
    const now = Date.now();
    for (const mode of values.modes!.split(',') as Array<'vector' | 'hybrid'>) {
      const points = grid(base, mode);
      // results[point][conv] = recall of that conversation's questions under that profile
      const results: Scorer[][] = [];
      for (const { profile } of points) {
        const searcher = new Searcher(app.store, profile);
        const row: Scorer[] = [];
        for (const conv of convs) {
          const scorer = new Scorer();
          const qv = vectors.get(conv.conv_id)!;
          for (const [i, q] of conv.queries.entries()) {
            const hits = await searcher.search({ namespace: `agent:${agentOf(conv)}`, now, query: q.question, vector: qv[i]!, mode, limit: 10, minScore: 0, filter: {}, context: 0 });
            scorer.add(q.evidence, hits.map((h) => h.memory.id));
          }
          row.push(scorer);
        }
        results.push(row);
      }
      const total = (p: number, skip?: number) => {
        const s = new Scorer();
        convs.forEach((conv, j) => {
          if (j !== skip) s.merge(results[p]![j]!);
        });
        return s.result();
      };
      const current = points.findIndex(({ profile }) => JSON.stringify(profile) === JSON.stringify(base));
      const ranked = points.map((pt, p) => ({ ...pt, r: total(p) })).sort((a, b) => objective(b.r) - objective(a.r));
      const loco = new Scorer();
      const chosen: string[] = [];
      convs.forEach((conv, j) => {
        let best = 0;
        for (let p = 1; p < points.length; p++) if (objective(total(p, j)) > objective(total(best, j))) best = p;
        chosen.push(`${conv.conv_id}: ${points[best]!.name}`);
        loco.merge(results[best]![j]!);
      });
      const fmt = (r: Recall) => `${r.hit[1].toFixed(1)} / ${r.hit[5].toFixed(1)} / ${r.hit[10].toFixed(1)}`;
      process.stdout.write(`\n## ${mode} (${app.embedder.provider}/${app.embedder.model}), hit@1 / @5 / @10\n`);
      if (current >= 0) process.stdout.write(`current profile: ${fmt(total(current))}\n`);
      process.stdout.write(`best 10 on all four:\n${ranked.slice(0, 10).map((x) => `  ${fmt(x.r)}  ${x.name}`).join('\n')}\n`);
      process.stdout.write(`leave-one-conversation-out: ${fmt(loco.result())}\n  chosen: ${chosen.join('; ')}\n`);
    }
  } finally {
    await client.close();
    await server.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.env.LANCEDB_LOG ??= 'error';
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
