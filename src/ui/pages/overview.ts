import type { App } from '../../app.js';
import { recentCalls } from '../../batch/recent.js';
import { namespaceOf } from '../../scope/ids.js';
import type { Browser } from '../../store/browse.js';
import { latencyChart, writesChart } from '../charts.js';
import { type Html, html } from '../html.js';
import { type PageContext, page } from '../layout.js';
import { agentHref, bytes, when } from '../parts.js';

/** Sessions per agent: all of them, and those still usable (not revoked, not expired). */
export async function sessionCounts(app: App, now: number): Promise<Map<string, { total: number; active: number }>> {
  const counts = new Map<string, { total: number; active: number }>();
  for (const s of await app.sessions.list()) {
    const c = counts.get(s.agent_id) ?? counts.set(s.agent_id, { total: 0, active: 0 }).get(s.agent_id)!;
    c.total++;
    if (s.revoked_at === null && s.expires_at > now) c.active++;
  }
  return counts;
}

/** `/ui/`: every agent with its memories, sessions, last write and bytes; the database's embedder; the charts. */
export async function overviewPage(app: App, browser: Browser, ctx: PageContext): Promise<Html> {
  const now = Date.now();
  const [agents, sessions] = await Promise.all([browser.agents(now), sessionCounts(app, now)]);
  const days = await browser.writesPerDay(now, 30, agents.map((a) => namespaceOf(a.agent_id)));
  const e = app.db.embedder;
  const embedder = `${e.provider}/${e.model} (${e.dim}-d)`;
  const rows = [...agents.map((a) => ({ ...a, hasTable: true }))];
  for (const agent of sessions.keys()) {
    if (!agents.some((a) => a.agent_id === agent)) rows.push({ agent_id: agent, memories: 0, last_write: null, bytes: 0, hasTable: false });
  }
  rows.sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  const body = html`<h1>Agents</h1>
<p class="muted small">Database <code>${app.db.uri}</code> · embedder <code>${embedder}</code></p>
${rows.length === 0
    ? html`<div class="card"><p>No agent has written a memory yet.</p><p class="muted small">Create a session for an agent on the <a href="/ui/sessions">Sessions</a> page, give its token to the agent, and its memories appear here.</p></div>`
    : html`<table class="stack" data-table="agents">
<thead><tr><th>Agent</th><th class="num">Memories</th><th class="num">Sessions (active)</th><th>Last write</th><th class="num">Bytes</th><th>Embedder</th></tr></thead>
<tbody>${rows.map((a) => {
        const s = sessions.get(a.agent_id) ?? { total: 0, active: 0 };
        return html`<tr data-agent="${a.agent_id}">
<td class="lead"><a href="${agentHref(a.agent_id)}">${a.agent_id}</a></td>
<td class="num" data-label="Memories" data-memories>${a.memories}</td>
<td class="num" data-label="Sessions (active)">${s.total} (${s.active})</td>
<td data-label="Last write">${a.last_write === null ? '–' : when(a.last_write)}</td>
<td class="num" data-label="Bytes">${a.hasTable ? bytes(a.bytes) : '–'}</td>
<td data-label="Embedder"><code>${embedder}</code></td>
</tr>`;
      })}</tbody></table>`}
<div class="grid">
${writesChart(days)}
${latencyChart(recentCalls('batch_search'))}
</div>`;
  return page(ctx, 'Agents', 'agents', body);
}
