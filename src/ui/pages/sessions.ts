import type { App } from '../../app.js';
import { log } from '../../log.js';
import { agentIdSchema, sessionIdSchema } from '../../scope/ids.js';
import type { CreatedSession } from '../../scope/sessions.js';
import { parseTtl } from '../../scope/ttl.js';
import { type Html, href, html } from '../html.js';
import { type PageContext, page } from '../layout.js';
import { agentHref, csrfField, when } from '../parts.js';

/** `/ui/sessions[?agent=]`: every session (newest first) with its state and a revoke button; the create form. */
export async function sessionsPage(app: App, q: URLSearchParams, ctx: PageContext, created?: CreatedSession): Promise<Html> {
  const now = Date.now();
  const agentParam = (q.get('agent') ?? '').trim();
  const agent = agentIdSchema.safeParse(agentParam).success ? agentParam : undefined;
  const sessions = (await app.sessions.list(agent)).sort((a, b) => b.created_at - a.created_at);
  const state = (s: { revoked_at: number | null; expires_at: number }) => (s.revoked_at !== null ? 'revoked' : s.expires_at <= now ? 'expired' : 'active');
  const body = html`<h1>Sessions${agent ? html` of <a href="${agentHref(agent)}">${agent}</a>` : ''}</h1>
${created
    ? html`<div class="card" data-created="${created.session_id}">
<p><b>Session ${created.session_id} for ${created.agent_id}</b>, expires ${when(created.expires_at)}. Its token, shown this once (memlane keeps only its digest):</p>
<code class="token" data-token>${created.token}</code>
<p class="muted small">Give it to the agent as <code>Authorization: Bearer …</code> over HTTP, or as <code>MEMLANE_SESSION_TOKEN</code> on stdio.</p>
</div>`
    : ''}
<form class="card filters" method="post" action="/ui/sessions/create" data-form="create-session">
${csrfField(ctx.csrf)}
<label>Agent<input name="agent" value="${agent ?? ''}" required size="18"></label>
<label>Lifetime<input name="ttl" value="30d" size="6" title="30s, 15m, 12h, 7d"></label>
<div class="actions"><button type="submit">Create session</button></div>
</form>
<form class="filters" method="get" action="/ui/sessions"><label>Only agent<input name="agent" value="${agent ?? ''}" size="18"></label><div class="actions"><button class="secondary" type="submit">Show</button>${agent ? html`<a href="/ui/sessions">All agents</a>` : ''}</div></form>
<h2>${sessions.length} session${sessions.length === 1 ? '' : 's'}</h2>
${sessions.length === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<table class="stack" data-table="sessions"><thead><tr><th>Session</th><th>Agent</th><th>State</th><th>Created</th><th>Expires</th><th>Origin</th><th></th></tr></thead><tbody>
${sessions.map(
        (s) => html`<tr data-session="${s.session_id}" data-state="${state(s)}">
<td class="lead mono">${s.session_id}</td>
<td data-label="Agent"><a href="${href(['ui', 'sessions'], { agent: s.agent_id })}">${s.agent_id}</a></td>
<td data-label="State">${state(s)}${s.revoked_at !== null ? html` <span class="muted small">${when(s.revoked_at)}</span>` : ''}</td>
<td data-label="Created">${when(s.created_at)}</td>
<td data-label="Expires">${when(s.expires_at)}</td>
<td data-label="Origin">${s.origin}</td>
<td data-label="">${state(s) === 'active'
          ? html`<form method="post" action="${href(['ui', 'sessions', s.session_id, 'revoke'])}">${csrfField(ctx.csrf)}<button class="danger" type="submit">Revoke</button></form>`
          : ''}</td>
</tr>`,
      )}</tbody></table>`}`;
  return page(ctx, 'Sessions', 'sessions', body);
}

/** Mints a session as `memlane session create` does; the token goes to the page once and never to a log. */
export async function createSession(app: App, form: URLSearchParams): Promise<CreatedSession | { problem: string }> {
  const agent = (form.get('agent') ?? '').trim();
  if (!agentIdSchema.safeParse(agent).success) return { problem: 'VALIDATION_ERROR: agent must be 1–64 characters of A-Z a-z 0-9 . _ -' };
  let ttlMs: number;
  try {
    ttlMs = parseTtl(form.get('ttl') || '30d');
  } catch (err) {
    return { problem: `VALIDATION_ERROR: ${(err as Error).message}` };
  }
  const created = await app.sessions.create(agent, { ttlMs, origin: 'inspector' });
  log.info(`inspector: session create agent=${agent}: ${created.session_id}`);
  return created;
}

/** Revokes as `memlane session revoke` does: every running server refuses its token from its next call. */
export async function revokeSession(app: App, sessionId: string): Promise<{ ok: boolean; message: string }> {
  if (!sessionIdSchema.safeParse(sessionId).success) return { ok: false, message: `NOT_FOUND: no session ${sessionId}` };
  const revoked = await app.sessions.revoke(sessionId);
  log.info(`inspector: session revoke ${sessionId}: ${revoked ? 'revoked' : 'not found or already revoked'}`);
  return revoked ? { ok: true, message: `Revoked ${sessionId}: its token is refused from the next call on.` } : { ok: false, message: `NOT_FOUND: no active session ${sessionId}` };
}
