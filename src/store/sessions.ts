import { ReadOnlyError } from '../errors.js';
import type { Database } from './db.js';
import type { LockWait } from './lock.js';
import { withRetry } from './memories.js';
import { and, col, sqlStr, sqlTimestamp } from './sql.js';

export interface SessionRow {
  session_id: string;
  agent_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  origin: string;
}

const CACHE_ENTRIES = 10_000;

/** Persistence of sessions; who may do what is decided in `scope/`. */
export class SessionStore {
  constructor(private readonly db: Database) {}

  /**
   * Appends a session. Without the write lock: an append of a row with random
   * ids decides nothing against other rows, and LanceDB commits concurrent
   * appends safely; so a server starts, and `session create` runs, even while
   * another process holds the lock for long.
   */
  async insert(row: SessionRow): Promise<void> {
    if (this.db.readOnly) throw new ReadOnlyError('this memlane is a read replica (MEMLANE_READ_ONLY=1): make sessions through a writer');
    await withRetry('session create', () => this.db.sessions.add([{ ...row }]));
  }

  /**
   * The session whose token has this SHA-256 hex digest, if any, as of the
   * table's latest version. Answers are kept while the sessions table stays
   * at the version they were read at: one version check per call instead of a
   * query, and a session created, revoked or extended by any process moves
   * the version, so it counts at the next call.
   */
  async byTokenHash(tokenHash: string): Promise<SessionRow | undefined> {
    const version = await this.db.sessions.version();
    if (version !== this.cachedAt) {
      this.cache.clear();
      this.cachedAt = version;
    }
    if (this.cache.has(tokenHash)) return this.cache.get(tokenHash);
    const rows = await this.db.sessions.query().where(`${col('token_hash')} = ${sqlStr(tokenHash)}`).limit(1).toArray();
    const row = rows[0] === undefined ? undefined : fromRow(rows[0]);
    // Unknown tokens are remembered too (bounded), so a flood of bad tokens costs no queries.
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
    if (this.cachedAt === version) this.cache.set(tokenHash, row);
    return row;
  }

  private readonly cache = new Map<string, SessionRow | undefined>();
  private cachedAt = -1;

  async list(agentId?: string): Promise<SessionRow[]> {
    const q = this.db.sessions.query();
    const rows = await (agentId === undefined ? q : q.where(`${col('agent_id')} = ${sqlStr(agentId)}`)).toArray();
    return rows.map(fromRow).sort((a, b) => a.created_at - b.created_at);
  }

  /** Marks a session revoked; false when there is no such (unrevoked) session. */
  async revoke(sessionId: string, now: number, wait: LockWait = {}): Promise<boolean> {
    return this.db.lock.run(async () => {
      this.db.lock.assertHeld();
      const result = await withRetry('session revoke', () =>
        this.db.sessions.update({
          where: and(`${col('session_id')} = ${sqlStr(sessionId)}`, `${col('revoked_at')} IS NULL`),
          values: { revoked_at: now },
        }),
      );
      return result.rowsUpdated > 0;
    }, wait);
  }

  /** Moves a live session's expiry (the open default's sliding expiry). */
  async extend(sessionId: string, expiresAt: number, wait: LockWait = {}): Promise<void> {
    await this.db.lock.run(async () => {
      this.db.lock.assertHeld();
      await withRetry('session extend', () =>
        this.db.sessions.update({
          where: and(`${col('session_id')} = ${sqlStr(sessionId)}`, `${col('revoked_at')} IS NULL`),
          values: { expires_at: expiresAt },
        }),
      );
    }, wait);
  }

  /** Deletes sessions of `origin` that ended (revoked or expired) before `before`; returns how many. */
  async pruneEnded(origin: string, before: number, wait: LockWait = {}): Promise<number> {
    return this.db.lock.run(async () => {
      const where = and(
        `${col('origin')} = ${sqlStr(origin)}`,
        `${col('revoked_at')} < ${sqlTimestamp(before)} OR (${col('revoked_at')} IS NULL AND ${col('expires_at')} < ${sqlTimestamp(before)})`,
      );
      const count = await this.db.sessions.countRows(where);
      if (count === 0) return 0;
      this.db.lock.assertHeld();
      await withRetry('session prune', () => this.db.sessions.delete(where));
      return count;
    }, wait);
  }

  /** Counts sessions per agent (for `stats`). */
  async countByAgent(): Promise<Map<string, number>> {
    const rows = await this.db.sessions.query().select(['agent_id']).toArray();
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(String(r.agent_id), (counts.get(String(r.agent_id)) ?? 0) + 1);
    return counts;
  }
}

function fromRow(r: Record<string, unknown>): SessionRow {
  return {
    session_id: String(r.session_id),
    agent_id: String(r.agent_id),
    token_hash: String(r.token_hash),
    created_at: Number(r.created_at),
    expires_at: Number(r.expires_at),
    revoked_at: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
    origin: String(r.origin),
  };
}
