import type { App } from '../../app.js';
import { type ItemResult, callTool, tools } from '../calls.js';
import { filterFields, parseFilters } from '../filters.js';
import { type Html, href, html } from '../html.js';
import { type PageContext, page } from '../layout.js';
import { type ShownMemory, agentHref, memoryCard, memoryHref, when } from '../parts.js';

interface Hit extends ShownMemory {
  score: number;
  context?: Array<{ id: string; content: string; created_at: string }>;
  explain?: { text_evidence: number | null; vector_similarity: number | null; neighbour_share: number; boost: number };
}

const MODES = ['hybrid', 'text', 'vector'] as const;

/**
 * `/ui/agents/<agent>/search`: one batch_search query, run as the agent's
 * own calls run, with its mode, limit and filters; each hit with its score,
 * and on request why it ranked and its session neighbours.
 */
export async function searchPage(app: App, agent: string, q: URLSearchParams, ctx: PageContext): Promise<{ status: number; body: Html }> {
  const query = (q.get('q') ?? '').trim();
  const mode = MODES.find((m) => m === q.get('mode')) ?? 'hybrid';
  const limit = Math.min(100, Math.max(1, Math.floor(Number(q.get('limit') ?? '10')) || 10));
  const context = Math.min(5, Math.max(0, Math.floor(Number(q.get('context') ?? '0')) || 0));
  const explain = q.get('explain') === '1';
  const { values, filter, problems } = parseFilters(q);

  let results: Html | string = '';
  let status = 200;
  if (query !== '' && problems.length === 0) {
    const started = performance.now();
    const [result] = await callTool(app, tools.search, agent, {
      queries: [{ query, mode, limit, context, explain, ...(Object.keys(filter).length > 0 && { filter }) }],
    });
    const ms = performance.now() - started;
    results = result!.status === 'ok' ? hitsOf(agent, result!, ms, explain) : failure(result!);
    if (result!.status !== 'ok') status = 422;
  }

  const body = html`<div class="crumbs"><a href="/ui/">Agents</a> / <a href="${agentHref(agent)}">${agent}</a> /</div>
<h1>Search ${agent}'s memories</h1>
<div class="card">
<form class="filters" method="get" action="${href(['ui', 'agents', agent, 'search'])}" data-form="search">
<label>Query<input name="q" value="${query}" size="36" required autofocus></label>
<label>Mode<select name="mode">${MODES.map((m) => html`<option${m === mode ? html` selected` : ''}>${m}</option>`)}</select></label>
<label>Limit<input type="number" name="limit" min="1" max="100" value="${limit}"></label>
<label>Neighbours<input type="number" name="context" min="0" max="5" value="${context}" title="Session neighbours to show on each side of every hit"></label>
${filterFields(values)}
<label class="check"><input type="checkbox" name="explain" value="1"${explain ? html` checked` : ''}> Why it ranked</label>
<div class="actions"><button type="submit">Search</button></div>
</form>
${problems.length > 0 ? html`<p class="flash bad" data-problems>${problems.join('; ')}</p>` : ''}
</div>
${results}`;
  return { status, body: page(ctx, `Search ${agent}`, 'agents', body) };
}

function failure(r: ItemResult): Html {
  return html`<div class="flash bad" data-error="${r.error?.code ?? ''}">${r.error?.code}: ${r.error?.message}${r.error?.field ? ` (${r.error.field})` : ''}</div>`;
}

const num = (v: number | null, digits: number) => (v === null ? 'not used' : v.toFixed(digits));

function hitsOf(agent: string, r: ItemResult, ms: number, explain: boolean): Html {
  const hits = (r.results ?? []) as Hit[];
  return html`<p class="muted small" data-total>${hits.length} result${hits.length === 1 ? '' : 's'} in ${ms.toFixed(1)} ms</p>
${hits.map((h, rank) => {
    const score = html`<div class="meta"><span>#${rank + 1}</span><span>score <span class="score" data-score>${h.score.toFixed(4)}</span><span class="bar-track" aria-hidden="true"><svg viewBox="0 0 100 8" preserveAspectRatio="none"><rect width="${Math.round(h.score * 100)}" height="8" fill="#2454c5"/></svg></span></span></div>`;
    const why =
      explain && h.explain
        ? html`<div class="explain" data-explain>
<span>Text evidence (BM25)<b>${num(h.explain.text_evidence, 3)}</b></span>
<span>Vector similarity<b>${num(h.explain.vector_similarity, 3)}</b></span>
<span>Neighbour share<b>${(h.explain.neighbour_share * 100).toFixed(1)}%</b></span>
<span>Boost<b>×${h.explain.boost.toFixed(3)}</b></span></div>`
        : '';
    const around =
      h.context && h.context.length > 0
        ? html`<div class="neighbours" data-neighbours><div class="muted">Session neighbours</div>${h.context.map(
            (n) => html`<div><a class="mono" href="${memoryHref(agent, n.id)}">${n.id}</a> <span class="muted">${when(n.created_at)}</span><div class="content">${n.content}</div></div>`,
          )}</div>`
        : '';
    return memoryCard(agent, h, html`${score}${why}${around}`);
  })}`;
}
