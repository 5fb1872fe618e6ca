import { toRecord } from '../../model.js';
import { namespaceOf } from '../../scope/ids.js';
import type { Browser } from '../../store/browse.js';
import { writesChart } from '../charts.js';
import { filterFields, parseFilters } from '../filters.js';
import { type Html, href, html } from '../html.js';
import { type PageContext, page } from '../layout.js';
import { agentHref, memoryCard } from '../parts.js';

export const PAGE_SIZE = 20;

/** `/ui/agents/<agent>`: the agent's memories, newest first, filtered and paginated, full text of each. */
export async function memoriesPage(browser: Browser, agent: string, q: URLSearchParams, ctx: PageContext): Promise<Html> {
  const now = Date.now();
  const { values, filter, problems } = parseFilters(q);
  const pageNo = Math.max(1, Math.floor(Number(q.get('page') ?? '1')) || 1);
  const namespace = namespaceOf(agent);
  const [{ total, memories }, days] = await Promise.all([
    browser.list(namespace, now, filter, (pageNo - 1) * PAGE_SIZE, PAGE_SIZE),
    browser.writesPerDay(now, 30, [namespace]),
  ]);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const at = (p: number) => agentHref(agent, { ...values, page: p === 1 ? undefined : p });
  const first = total === 0 ? 0 : (pageNo - 1) * PAGE_SIZE + 1;
  const last = Math.min(total, pageNo * PAGE_SIZE);
  const pager = html`<nav class="pager" aria-label="Pages">
${pageNo > 1 ? html`<a href="${at(pageNo - 1)}" rel="prev">← Newer</a>` : ''}
<span class="muted small" data-range>${first}–${last} of ${total}</span>
${pageNo < pages ? html`<a href="${at(pageNo + 1)}" rel="next">Older →</a>` : ''}
</nav>`;
  const body = html`<div class="crumbs"><a href="/ui/">Agents</a> /</div>
<h1>${agent}</h1>
<div class="card">
<form class="filters" method="get" action="${agentHref(agent)}" data-form="filters">
${filterFields(values)}
<div class="actions"><button type="submit">Filter</button><a href="${agentHref(agent)}">Clear</a></div>
</form>
${problems.length > 0 ? html`<p class="flash bad" data-problems>${problems.join('; ')}</p>` : ''}
</div>
<div class="actions"><a class="button secondary" href="${href(['ui', 'agents', agent, 'search'])}">Search this agent's memories</a>
<a href="${href(['ui', 'sessions'], { agent })}">Sessions of ${agent}</a></div>
${pager}
${memories.length === 0 ? html`<div class="card muted">No memories match.</div>` : memories.map((m) => memoryCard(agent, toRecord(m)))}
${memories.length > 0 ? pager : ''}
<div class="solo">${writesChart(days)}</div>`;
  return page(ctx, agent, 'agents', body);
}
