/**
 * A write hands the replica each memory's full-text terms worked out while
 * LanceDB commits (src/store/memories.ts upsert), so only the index updates
 * wait for the commit. The replica must index exactly the terms it is given,
 * and a replica built that way must answer as one that analyses the rows
 * itself, through replacements and deletes.
 */
import { describe, expect, it } from 'vitest';
import type { StoredMemory } from '../../src/model.js';
import { queryTerms } from '../../src/store/replica/analyzer.js';
import { AgentReplica, indexTerms, type ReplicaRow } from '../../src/store/replica/replica.js';

const memory = (id: string, content: string, extra: Partial<StoredMemory> = {}): StoredMemory => ({
  id,
  namespace: 'agent-a',
  agent_id: 'agent-a',
  session_id: 's1',
  ord: Number(id.replace(/\D/g, '')) || 1,
  content,
  content_hash: `h-${id}`,
  type: 'fact',
  title: null,
  tags: [],
  metadata: {},
  confidence: 1,
  importance: 0.5,
  source: 'test',
  provenance: 'test',
  pinned: false,
  immutable: false,
  expires_at: null,
  created_at: 1,
  updated_at: 1,
  version: 1,
  ...extra,
});
const row = (m: StoredMemory, withTerms: boolean, seq = 1): ReplicaRow => ({
  pk: `${m.namespace}/${m.id}`,
  seq,
  memory: m,
  vector: new Float32Array([1, 0, 0, 0]),
  ...(withTerms ? { terms: indexTerms(m) } : {}),
});
const search = (r: AgentReplica, q: string) => r.textSearch(queryTerms(q), 10, () => true).map((t) => [r.memoryAt(t.slot)!.id, t.score]);

describe('full-text terms worked out before the commit', () => {
  it('are the terms the replica indexes', () => {
    const r = new AgentReplica('openai', 4);
    const m = memory('m1', 'The user prefers green tea');
    // Terms other than the content's prove the given ones are used rather than worked out again.
    r.upsert([{ ...row(m, false), terms: ['zebra'] }]);
    expect(search(r, 'zebra').map(([id]) => id)).toEqual(['m1']);
    expect(search(r, 'green tea')).toEqual([]);
  });

  it('cover the title, the content and short metadata strings, as a reload would index them', () => {
    const m = memory('m1', 'Deployments run on Tuesdays', { title: 'Release cadence', metadata: { team: 'Falcon' } });
    expect(indexTerms(m)).toEqual(expect.arrayContaining(['releas', 'cadenc', 'deploy', 'run', 'tuesday', 'falcon']));
  });

  it('give the same answers as a replica that analyses rows itself, through replacements and deletes', () => {
    const given = new AgentReplica('openai', 4);
    const analysed = new AgentReplica('openai', 4);
    const first = [
      memory('m1', 'Project Falcon uses PostgreSQL 16'),
      memory('m2', 'Falcon deploys happen on Tuesdays'),
      memory('m3', 'The user likes espresso in the morning'),
      memory('m4', 'Standup is at 09:30 every weekday'),
    ];
    const replaced = [memory('m2', 'Falcon deploys moved to Thursdays'), memory('m5', 'Espresso machine is on the third floor')];
    for (const [r, withTerms] of [
      [given, true],
      [analysed, false],
    ] as const) {
      r.upsert(first.map((m) => row(m, withTerms)));
      r.upsert(replaced.map((m) => row(m, withTerms, 2)));
      r.delete(['agent-a/m4']);
    }
    for (const q of ['falcon', 'tuesdays', 'thursdays', 'espresso', 'standup weekday', 'postgresql']) {
      expect(search(given, q)).toEqual(search(analysed, q));
    }
    expect(search(given, 'tuesdays')).toEqual([]);
    expect(search(given, 'standup')).toEqual([]);
    expect(search(given, 'thursdays').map(([id]) => id)).toEqual(['m2']);
    expect(given.idfMass(queryTerms('falcon espresso'))).toBe(analysed.idfMass(queryTerms('falcon espresso')));
  });
});
