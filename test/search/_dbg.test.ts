import { it } from 'vitest';
import { startHarness } from '../helpers/harness.js';
it('dbg', async () => {
  const h = await startHarness();
  await h.ok('batch_remember', { memories: Array.from({ length: 20 }, (_, i) => ({ content: `alpha beacon ${i}` })) });
  const full = await h.ok('batch_search', { queries: [{ query: 'alpha beacon', mode: 'vector', limit: 100 }] });
  const rs = full.results[0].results;
  console.log(rs.slice(0,5).map((r: any) => r.score));
  const t = rs[2].score;
  const got = await h.ok('batch_search', { queries: [{ query: 'alpha beacon', mode: 'vector', limit: 100, min_score: t }] });
  console.log(t, got.results[0].results.map((r: any) => r.score));
  await h.close();
});
