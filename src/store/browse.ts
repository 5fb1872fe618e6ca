import type { StoredMemory } from '../model.js';
import { namespaceOf } from '../scope/ids.js';
import type { SearchFilter } from './filter.js';
import type { MemoryStore } from './memories.js';
import { readRows } from './memories.js';

/** One agent as the inspector's overview shows it. */
export interface AgentSummary {
  agent_id: string;
  /** Live (unexpired) memories. */
  memories: number;
  /** Latest `updated_at` among live memories (epoch ms); null when there are none. */
  last_write: number | null;
  /** Bytes of the agent's memories table (data files, as LanceDB counts them). */
  bytes: number;
}

export interface MemoryPage {
  /** Live memories that pass the filter. */
  total: number;
  memories: StoredMemory[];
}

/**
 * Reads no tool offers, for the operator's inspector: every agent, an
 * agent's memories newest first a page at a time, a memory's session
 * neighbours, and how many memories were written per day. All of it on the
 * same replica batch_search and batch_get read (so it sees what they see,
 * with the same namespace wall and expiry), after the same version check.
 */
export class Browser {
  constructor(private readonly store: MemoryStore) {}

  /** Every agent with a memories table, with its counts (sessions are counted in scope/). */
  async agents(now: number): Promise<AgentSummary[]> {
    await this.store.refresh();
    const summaries: AgentSummary[] = [];
    for (const table of await this.store.db.memoryTables()) {
      // The table name folds case, so the agent id is read from a row.
      const [row] = await readRows(table.query().select(['agent_id']).limit(1));
      if (!row) continue;
      const agent = String(row.agent_id);
      const replica = await this.store.replicaFor(namespaceOf(agent));
      let memories = 0;
      let last: number | null = null;
      if (replica) {
        const live = replica.predicate(namespaceOf(agent), now, {});
        for (const m of replica.memories(namespaceOf(agent))) {
          if (!live(m)) continue;
          memories++;
          if (last === null || m.updated_at > last) last = m.updated_at;
        }
      }
      const stats = await table.stats();
      summaries.push({ agent_id: agent, memories, last_write: last, bytes: stats.totalBytes });
    }
    return summaries.sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  }

  /** Live memories of `namespace` passing `filter`, newest first, `limit` from `offset`. */
  async list(namespace: string, now: number, filter: SearchFilter, offset: number, limit: number): Promise<MemoryPage> {
    await this.store.refresh();
    const replica = await this.store.replicaFor(namespace);
    if (!replica) return { total: 0, memories: [] };
    const accept = replica.predicate(namespace, now, filter);
    const all = [...replica.memories(namespace)].filter(accept);
    all.sort((a, b) => b.created_at - a.created_at || b.ord - a.ord || (a.id < b.id ? 1 : -1));
    return { total: all.length, memories: all.slice(offset, offset + limit) };
  }

  /** The live memory `id` of `namespace`, if any (as batch_get finds it). */
  async memory(namespace: string, id: string, now: number): Promise<StoredMemory | undefined> {
    return (await this.store.getMany(namespace, [id], now)).get(id);
  }

  /** The live memories written just before (negative offsets) and after `m` in its session, up to `reach` each side. */
  async neighbours(m: StoredMemory, now: number, reach: number): Promise<Array<{ offset: number; memory: StoredMemory }>> {
    const replica = await this.store.replicaFor(m.namespace);
    if (!replica) return [];
    const live = replica.predicate(m.namespace, now, {});
    const found: Array<{ offset: number; memory: StoredMemory }> = [];
    for (let k = -reach; k <= reach; k++) {
      if (k === 0) continue;
      const slot = replica.slotAt(m.namespace, m.session_id, m.ord + k);
      const n = slot === undefined ? undefined : replica.memoryAt(slot);
      if (n && live(n)) found.push({ offset: k, memory: n });
    }
    return found;
  }

  /**
   * Live memories created on each of the last `days` UTC days (oldest first,
   * today last), in `namespaces` (every agent's when not given).
   */
  async writesPerDay(now: number, days: number, namespaces?: readonly string[]): Promise<Array<{ day: string; count: number }>> {
    const today = Math.floor(now / 86_400_000);
    const counts = new Array<number>(days).fill(0);
    const names = namespaces ?? (await this.agents(now)).map((a) => namespaceOf(a.agent_id));
    for (const namespace of names) {
      const replica = await this.store.replicaFor(namespace);
      if (!replica) continue;
      const live = replica.predicate(namespace, now, {});
      for (const m of replica.memories(namespace)) {
        const back = today - Math.floor(m.created_at / 86_400_000);
        if (back >= 0 && back < days && live(m)) counts[days - 1 - back]!++;
      }
    }
    return counts.map((count, i) => ({ day: new Date((today - (days - 1) + i) * 86_400_000).toISOString().slice(0, 10), count }));
  }
}
