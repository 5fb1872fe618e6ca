import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpRefusal } from '../transport/http-reply.js';

/** The inspector's cookie: HttpOnly, SameSite=Strict, only under /ui. */
export const COOKIE = 'memlane_ui';
/** A signed-in browser stays signed in this long after its last request. */
const IDLE_MS = 12 * 3_600_000;
const MAX_SESSIONS = 64;

/** One signed-in browser. */
export interface UiSession {
  id: string;
  /** The per-session token every form carries back (CSRF). */
  csrf: string;
  lastSeen: number;
  /** A message for the next page this browser sees (what the last action did). */
  flash?: { ok: boolean; text: string };
}

const secret = () => randomBytes(32).toString('base64url');

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Who may use the inspector: whoever opened the login link printed on the
 * operator's terminal. The link's secret works once (a copy in a browser
 * history or a proxy log is useless after); using it mints the next one,
 * which `onSecret` prints, so another browser can sign in too. Agents'
 * session tokens mean nothing here, and this cookie means nothing to /mcp.
 * Everything lives in this process's memory: a restart signs everyone out.
 */
export class InspectorAuth {
  private loginSecret = secret();
  private readonly sessions = new Map<string, UiSession>();

  constructor(private readonly onSecret: (secret: string) => void = () => undefined) {}

  /** The login secret that works now. */
  get secret(): string {
    return this.loginSecret;
  }

  /** Signs a browser in with the login secret; undefined (and nothing changes) when it is wrong. */
  login(offered: string): UiSession | undefined {
    if (!sameSecret(offered, this.loginSecret)) return undefined;
    this.loginSecret = secret();
    this.onSecret(this.loginSecret);
    this.sweep(Date.now());
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastSeen - b.lastSeen)[0]!;
      this.sessions.delete(oldest.id);
    }
    const session: UiSession = { id: secret(), csrf: secret(), lastSeen: Date.now() };
    this.sessions.set(session.id, session);
    return session;
  }

  logout(session: UiSession): void {
    this.sessions.delete(session.id);
  }

  /** The signed-in session of the request's cookie, if any. */
  sessionOf(req: IncomingMessage): UiSession | undefined {
    const id = cookieValue(req.headers.cookie, COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    const now = Date.now();
    if (!session || now - session.lastSeen > IDLE_MS) {
      if (session) this.sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  /** Set-Cookie for a signed-in session (no Secure: the inspector speaks plain HTTP on loopback). */
  static cookieFor(session: UiSession): string {
    return `${COOKIE}=${session.id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${IDLE_MS / 1000}`;
  }

  static clearCookie(): string {
    return `${COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  /**
   * A POST must come from the inspector's own pages: the SameSite cookie keeps
   * other sites' requests unsigned, and this covers what SameSite does not (a
   * page on another port of this machine is the same site): a browser's
   * Origin and Sec-Fetch-Site must say this origin, and the form must carry
   * the session's token.
   */
  static checkPost(req: IncomingMessage, session: UiSession, form: URLSearchParams): void {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) {
      throw new HttpRefusal(403, 'FORBIDDEN', 'this form was sent from another origin; use the inspector\'s own pages');
    }
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new HttpRefusal(403, 'FORBIDDEN', `this form was sent from a ${String(site)} page; use the inspector's own pages`);
    }
    const token = form.get('csrf');
    if (token === null || !sameSecret(token, session.csrf)) {
      throw new HttpRefusal(403, 'CSRF_TOKEN_INVALID', 'the form token is missing or wrong; reload the page and try again');
    }
  }

  private sweep(now: number): void {
    for (const [id, s] of this.sessions) if (now - s.lastSeen > IDLE_MS) this.sessions.delete(id);
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
