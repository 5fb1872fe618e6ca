import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../tools/_helpers.js';
import { useHttpHarness } from './_http.js';

describe('HTTP under load', () => {
  const h = useHttpHarness();

  it('50 concurrent clients of 5 agents remember and search: every result correct, nothing crosses agents', async () => {
    const agents = ['ann', 'ben', 'cat', 'dan', 'eve'];
    const run = uniqueWord('ld');
    // One session per client, as fifty separate agents' processes would have.
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => h().token(agents[i % 5])));
    const clients = await Promise.all(tokens.map((t) => h().client(t, { validate: false })));

    // Each client writes three memories tagged with its own word, then searches for it and for every agent's shared word.
    const outcomes = await Promise.all(
      clients.map(async (c, i) => {
        const agent = agents[i % 5]!;
        const mine = `${run}c${i}`;
        const wrote = await c.ok('batch_remember', {
          memories: [0, 1, 2].map((k) => ({ content: `${mine} ${run}${agent} item ${k}`, tags: [agent] })),
        });
        const found = await c.ok('batch_search', {
          queries: [{ query: mine, mode: 'text', limit: 10 }, ...agents.map((a) => ({ query: `${run}${a}`, mode: 'text' as const, limit: 100 }))],
        });
        return { i, agent, mine, wrote, found };
      }),
    );

    for (const { i, agent, mine, wrote, found } of outcomes) {
      expect(wrote).toMatchObject({ agent_id: agent, succeeded: 3, failed: 0 });
      const ownIds = wrote.results.map((r: any) => r.id).sort();
      expect(found.agent_id).toBe(agent);
      // Its own word finds exactly its own three memories.
      expect(found.results[0].results.map((r: any) => r.id).sort(), `client ${i}`).toEqual(ownIds);
      expect(found.results[0].results.every((r: any) => r.content.startsWith(`${mine} `))).toBe(true);
      // Another agent's word finds nothing; its own agent's word finds only its agent's memories.
      agents.forEach((other, k) => {
        const hits = found.results[1 + k].results as any[];
        if (other !== agent) expect(hits, `client ${i} (${agent}) searching ${other}`).toEqual([]);
        else expect(hits.every((r) => r.tags.includes(agent))).toBe(true);
      });
    }

    // After everyone finished, each agent holds exactly its ten clients' thirty memories.
    for (const [k, agent] of agents.entries()) {
      const out = await clients[k]!.ok('batch_search', { queries: [{ query: `${run}${agent}`, mode: 'text', limit: 100 }] });
      expect(out.results[0].total, agent).toBe(30);
    }
  });
});
