import { createHash, timingSafeEqual } from 'node:crypto';
import { CallError, ErrorCode } from '../errors.js';
import { log } from '../log.js';
import type { SessionRow, SessionStore } from '../store/sessions.js';
import { TOKEN_PATTERN, namespaceOf, newSessionId, newToken } from './ids.js';
import { DEFAULT_SESSION_TTL_MS } from './ttl.js';

/** Who a call acts for. Every read and write of the call is confined to `namespace`. */
export interface Scope {
  agent_id: string;
  namespace: string;
  session_id: string;
}

export interface CreatedSession {
  session_id: string;
  agent_id: string;
  token: string;
  created_at: number;
  expires_at: number;
}

/**
 * The open local default (stdio without a token) mints one session per server
 * process. It ends when the process exits cleanly; a process that dies without
 * ending it (kill -9, a crash, a power cut) leaves it to expire OPEN_IDLE_TTL_MS
 * after its last use. While its process lives the session never lapses: each
 * use slides the expiry forward (at most one write per OPEN_RENEW_EVERY_MS),
 * even after a long idle spell such as a laptop asleep overnight, because only
 * that process knows the token. An hour: long enough that an idle but running
 * desktop app costs almost no writes, short enough that `session list` stops
 * showing a crashed process's session as active within the hour.
 */
export const OPEN_ORIGIN = 'stdio-default';
export const OPEN_IDLE_TTL_MS = 3_600_000;
export const OPEN_RENEW_EVERY_MS = 5 * 60_000;
/** Ended open sessions are deleted this long after they ended (at the next stdio start). */
export const OPEN_KEEP_ENDED_MS = 7 * 86_400_000;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** Sessions and tokens (contract §1): made here, checked on every call. */
export class Sessions {
  constructor(private readonly store: SessionStore) {}

  /** Mints a session; the token is returned once and only its digest is stored. */
  async create(agentId: string, opts: { ttlMs?: number; origin?: string; now?: number } = {}): Promise<CreatedSession> {
    const now = opts.now ?? Date.now();
    const token = newToken();
    const row: SessionRow = {
      session_id: newSessionId(),
      agent_id: agentId,
      token_hash: hashToken(token),
      created_at: now,
      expires_at: now + (opts.ttlMs ?? DEFAULT_SESSION_TTL_MS),
      revoked_at: null,
      origin: opts.origin ?? 'cli',
    };
    await this.store.insert(row);
    return { session_id: row.session_id, agent_id: agentId, token, created_at: row.created_at, expires_at: row.expires_at };
  }

  list(agentId?: string): Promise<SessionRow[]> {
    return this.store.list(agentId);
  }

  countByAgent(): Promise<Map<string, number>> {
    return this.store.countByAgent();
  }

  revoke(sessionId: string): Promise<boolean> {
    return this.store.revoke(sessionId, Date.now());
  }

  /** Mints the open local default's session (see OPEN_IDLE_TTL_MS) and deletes long-ended ones. */
  async openDefault(agentId: string, now = Date.now()): Promise<CreatedSession> {
    const session = await this.create(agentId, { ttlMs: OPEN_IDLE_TTL_MS, origin: OPEN_ORIGIN, now });
    // Housekeeping, best effort: a write lock held elsewhere must not hold up start-up.
    await this.store.pruneEnded(OPEN_ORIGIN, now - OPEN_KEEP_ENDED_MS, { deadlineAt: Date.now() + 1_000 }).catch((err: Error) => {
      log.debug(`pruning ended open sessions skipped: ${err.message}`);
    });
    return session;
  }

  /** Ends the open default's session at a clean exit. */
  async endOpenDefault(sessionId: string): Promise<void> {
    await this.store.revoke(sessionId, Date.now(), { deadlineAt: Date.now() + 5_000 });
  }

  /**
   * The scope a token proves. Read from the store on every call, so a session
   * revoked by `memlane session revoke` in another process counts at once.
   */
  async verify(token: string, now = Date.now()): Promise<Scope> {
    // Malformed tokens fail the same way as unknown ones: nothing to learn from the difference.
    if (!TOKEN_PATTERN.test(token)) throw unauthorized();
    const digest = hashToken(token);
    const row = await this.store.byTokenHash(digest);
    // The lookup is by digest; the constant-time compare keeps the final check free of timing signal.
    if (!row || !timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(digest, 'hex'))) throw unauthorized();
    if (row.revoked_at !== null) throw unauthorized();
    if (row.origin === OPEN_ORIGIN && row.expires_at - now < OPEN_IDLE_TTL_MS - OPEN_RENEW_EVERY_MS) {
      // Used, so its process is alive: slide the expiry (see OPEN_IDLE_TTL_MS). Best effort:
      // a busy write lock must not hold up the call, and only this process knows the token.
      await this.store.extend(row.session_id, now + OPEN_IDLE_TTL_MS, { deadlineAt: now + 2_000 }).catch((err: Error) => {
        log.warn(`could not extend the open session ${row.session_id}: ${err.message}`);
      });
    } else if (row.expires_at <= now) {
      throw new CallError(ErrorCode.SessionExpired, `session ${row.session_id} expired at ${new Date(row.expires_at).toISOString()}; create a new one with \`memlane session create --agent ${row.agent_id}\``);
    }
    return { agent_id: row.agent_id, namespace: namespaceOf(row.agent_id), session_id: row.session_id };
  }
}

const unauthorized = (): CallError =>
  new CallError(ErrorCode.Unauthorized, 'the session token is unknown or revoked; create one with `memlane session create --agent <id>`');
