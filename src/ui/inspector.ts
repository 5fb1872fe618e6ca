import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app.js';
import { ErrorCode } from '../errors.js';
import { log } from '../log.js';
import { agentIdSchema } from '../scope/ids.js';
import { Browser } from '../store/browse.js';
import { readBody } from '../transport/http-limits.js';
import { HttpRefusal } from '../transport/http-reply.js';
import { InspectorAuth, type UiSession } from './auth.js';
import { ToolCallError } from './calls.js';
import { type Html, html } from './html.js';
import { type PageContext, barePage } from './layout.js';
import { memoriesPage } from './pages/memories.js';
import { deleteMemory, editMemory, memoryPage } from './pages/memory.js';
import { overviewPage } from './pages/overview.js';
import { searchPage } from './pages/search.js';
import { createSession, revokeSession, sessionsPage } from './pages/sessions.js';
import { agentHref, memoryHref } from './parts.js';

/** Form bodies: a memory's content (32,768 characters, each up to 9 bytes once percent-encoded) and metadata fit. */
const MAX_FORM_BYTES = 512 * 1024;

/** The web inspector: every page under /ui, for whoever signed in with the printed login link. */
export interface Inspector {
  /** Whether `path` is the inspector's. */
  owns(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The login link for a server reachable at `origin` (http://host:port), with the secret that works now. */
  loginUrl(origin: string): string;
}

export interface InspectorOptions {
  /** Called with each new login link's secret after the previous one was used (to print it for the operator). */
  onSecret?: (secret: string) => void;
}

/**
 * Routes, sign-in and the CSRF rule of the inspector. It is an operator's
 * view of the whole database, so it trusts nothing but its own login: an
 * Authorization header is ignored, every POST needs the session's form
 * token, and every response forbids framing, caching and scripts beyond its
 * own nonce.
 */
export function createInspector(app: App, opts: InspectorOptions = {}): Inspector {
  const auth = new InspectorAuth(opts.onSecret);
  const browser = new Browser(app.store);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://inspector');
    const path = url.pathname;
    const nonce = randomBytes(16).toString('base64');
    try {
      if (path === '/' || path === '/ui') return redirect(res, '/ui/');
      if (path === '/ui/login') return login(req, res, url);
      const session = auth.sessionOf(req);
      if (!session) throw new HttpRefusal(401, ErrorCode.Unauthorized, 'not signed in: open the login link memlane printed when the inspector started');
      const flash = session.flash;
      delete session.flash;
      const ctx: PageContext = { nonce, csrf: session.csrf, ...(flash && { flash }) };
      if (req.method === 'POST') return await post(req, res, path, session, ctx);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpRefusal(405, 'METHOD_NOT_ALLOWED', 'the inspector answers GET and POST');
      await get(res, path, url.searchParams, ctx);
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal.status >= 500) log.error(`inspector: ${req.method} ${path} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      else log.info(`inspector: refused ${req.method} ${path}: ${refusal.status} ${refusal.code}`);
      if (res.headersSent) return void res.destroy();
      if (!req.complete) res.setHeader('Connection', 'close');
      send(res, refusal.status, nonce, errorPage(nonce, refusal), refusal.headers);
    }
  };

  const login = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method !== 'GET') throw new HttpRefusal(405, 'METHOD_NOT_ALLOWED', 'open the login link in a browser');
    const offered = url.searchParams.get('secret') ?? '';
    const session = offered === '' ? undefined : auth.login(offered);
    if (!session) {
      throw new HttpRefusal(401, ErrorCode.Unauthorized, offered === ''
        ? 'this link carries no login secret: open the link memlane printed when the inspector started'
        : 'this login secret is wrong or was already used: open the latest link memlane printed');
    }
    log.info('inspector: a browser signed in');
    // The redirect drops the secret from the address bar (and the history entry that stays).
    res.setHeader('Set-Cookie', InspectorAuth.cookieFor(session));
    redirect(res, '/ui/');
  };

  const get = async (res: ServerResponse, path: string, q: URLSearchParams, ctx: PageContext) => {
    const parts = path.split('/').slice(2).map(decodeSegment);
    if (parts.length === 1 && parts[0] === '') return send(res, 200, ctx.nonce, await overviewPage(app, browser, ctx));
    if (parts.length === 1 && parts[0] === 'sessions') return send(res, 200, ctx.nonce, await sessionsPage(app, q, ctx));
    if (parts[0] === 'agents' && parts.length >= 2) {
      const agent = agentOf(parts[1]!);
      if (parts.length === 2) return send(res, 200, ctx.nonce, await memoriesPage(browser, agent, q, ctx));
      if (parts.length === 3 && parts[2] === 'search') {
        const { status, body } = await searchPage(app, agent, q, ctx);
        return send(res, status, ctx.nonce, body);
      }
      if (parts.length === 3 && parts[2] === 'memory') return send(res, 200, ctx.nonce, await memoryPage(app, browser, agent, q.get('id') ?? '', ctx));
    }
    throw new HttpRefusal(404, 'NOT_FOUND', `no page ${path}`);
  };

  const post = async (req: IncomingMessage, res: ServerResponse, path: string, session: UiSession, ctx: PageContext) => {
    const form = new URLSearchParams((await readBody(req, MAX_FORM_BYTES)).toString('utf8'));
    InspectorAuth.checkPost(req, session, form);
    const parts = path.split('/').slice(2).map(decodeSegment);
    if (parts.length === 1 && parts[0] === 'logout') {
      auth.logout(session);
      res.setHeader('Set-Cookie', InspectorAuth.clearCookie());
      return send(res, 200, ctx.nonce, barePage(ctx.nonce, 'Signed out', html`<div class="card"><h1>Signed out</h1><p>Open the latest login link memlane printed to sign in again.</p></div>`));
    }
    if (parts.length === 2 && parts[0] === 'sessions' && parts[1] === 'create') {
      const created = await createSession(app, form);
      if ('problem' in created) {
        session.flash = { ok: false, text: created.problem };
        return redirect(res, '/ui/sessions');
      }
      // Answered, not redirected: the token must never be in a URL, and this page is not cached.
      return send(res, 200, ctx.nonce, await sessionsPage(app, new URLSearchParams({ agent: created.agent_id }), ctx, created));
    }
    if (parts.length === 3 && parts[0] === 'sessions' && parts[2] === 'revoke') {
      const r = await revokeSession(app, parts[1]!);
      session.flash = { ok: r.ok, text: r.message };
      return redirect(res, '/ui/sessions');
    }
    if (parts.length === 4 && parts[0] === 'agents' && parts[2] === 'memory') {
      const agent = agentOf(parts[1]!);
      const id = form.get('id') ?? '';
      if (parts[3] === 'edit') {
        const r = await editMemory(app, agent, id, form);
        if (r.ok) {
          session.flash = { ok: true, text: r.message };
          return redirect(res, memoryHref(agent, id));
        }
        const status = r.code === 'VERSION_CONFLICT' || r.code === 'IMMUTABLE' ? 409 : 422;
        return send(res, status, ctx.nonce, await memoryPage(app, browser, agent, id, ctx, r));
      }
      if (parts[3] === 'delete') {
        const r = await deleteMemory(app, agent, id, form);
        session.flash = { ok: r.ok, text: r.message };
        return redirect(res, r.ok ? agentHref(agent) : memoryHref(agent, id));
      }
    }
    throw new HttpRefusal(404, 'NOT_FOUND', `no action ${path}`);
  };

  return {
    owns: (path) => path === '/ui' || path.startsWith('/ui/'),
    handle,
    loginUrl: (origin) => `${origin}/ui/login?secret=${auth.secret}`,
  };
}

function agentOf(segment: string): string {
  if (!agentIdSchema.safeParse(segment).success) throw new HttpRefusal(404, 'NOT_FOUND', 'no such agent: an agent id is 1–64 characters of A-Z a-z 0-9 . _ -');
  return segment;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpRefusal(400, 'BAD_REQUEST', 'the address is not valid percent-encoding');
  }
}

function refusalOf(err: unknown): HttpRefusal {
  if (err instanceof HttpRefusal) return err;
  if (err instanceof ToolCallError) return new HttpRefusal(err.code === ErrorCode.Validation ? 422 : 500, err.code, err.message);
  return new HttpRefusal(500, ErrorCode.Internal, 'internal error; see the server log');
}

function errorPage(nonce: string, r: HttpRefusal): Html {
  return barePage(nonce, r.status === 401 ? 'Sign in' : 'Error', html`<div class="card" data-error="${r.code}">
<h1>${r.status === 401 ? 'Sign in to the inspector' : `Error ${r.status}`}</h1>
<p><b>${r.code}</b>: ${r.message}</p>
${r.status === 401 ? '' : html`<p><a href="/ui/">Back to the agents</a></p>`}
</div>`);
}

/**
 * Every page: HTML from `html` only (escaped), a CSP that runs no script and
 * loads nothing from elsewhere (styles only with this response's nonce), no
 * framing, no caching, no referrer beyond this origin (`no-referrer` would
 * make Chromium send `Origin: null` with the inspector's own forms).
 */
function send(res: ServerResponse, status: number, nonce: string, body: Html, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body.text);
}

function redirect(res: ServerResponse, to: string): void {
  res.writeHead(303, { Location: to, 'Cache-Control': 'no-store', 'Referrer-Policy': 'same-origin' });
  res.end();
}
