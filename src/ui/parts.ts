import { type Html, href, html } from './html.js';

/** The fields of a memory that the inspector's cards show, as batch_get and batch_search report them. */
export interface ShownMemory {
  id: string;
  content: string;
  type: string;
  title: string | null;
  tags: string[];
  importance: number;
  pinned: boolean;
  immutable: boolean;
  expires_at: string | null;
  session_id: string;
  version: number;
  created_at: string;
}

/** `2026-12-02 14:03 UTC` (an ISO time or epoch ms); `never` for null. */
export function when(t: string | number | null): string {
  if (t === null) return 'never';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A memory's page. The id travels in the query: an id may be `..` or `.`, which no URL keeps as a path segment. */
export const memoryHref = (agent: string, id: string) => href(['ui', 'agents', agent, 'memory'], { id });
/** Where the memory forms post (the id is a field of the form). */
export const memoryAction = (agent: string, action: 'edit' | 'delete') => href(['ui', 'agents', agent, 'memory', action]);
export const agentHref = (agent: string, query: Record<string, string | number | undefined> = {}) => href(['ui', 'agents', agent], query);

export function chips(m: Pick<ShownMemory, 'tags' | 'pinned' | 'immutable'>): Html {
  return html`${m.pinned ? html`<span class="chip pin">pinned</span>` : ''}${m.immutable ? html`<span class="chip lock">immutable</span>` : ''}${m.tags.map(
    (t) => html`<span class="chip" data-tag>${t}</span>`,
  )}`;
}

/** One memory in a list: title (or id) linking to its page, full content, every field a list needs. */
export function memoryCard(agent: string, m: ShownMemory, extra: Html | string = ''): Html {
  return html`<article class="card memory" data-id="${m.id}">
<div class="title"><a href="${memoryHref(agent, m.id)}">${m.title ?? m.id}</a></div>
<div class="content" data-content>${m.content}</div>
<div class="meta" data-meta><span>${chips(m)}</span><span>type <b>${m.type}</b></span><span>importance ${m.importance}</span><span>expires ${when(m.expires_at)}</span>
<span>session <a class="mono" href="${agentHref(agent, { session: m.session_id })}">${m.session_id}</a></span><span>v${m.version}</span><span>${when(m.created_at)}</span></div>
${extra}
</article>`;
}

/** A hidden field with the form token: every POST form carries one. */
export const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v >= 10 ? 0 : 1)} ${units[u]}`;
}
