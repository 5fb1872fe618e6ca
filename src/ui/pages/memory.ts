import type { App } from '../../app.js';
import type { MemoryRecord } from '../../model.js';
import { namespaceOf } from '../../scope/ids.js';
import type { Browser } from '../../store/browse.js';
import { jsonEqual } from '../../tools/merge-patch.js';
import { HttpRefusal } from '../../transport/http-reply.js';
import { callTool, tools } from '../calls.js';
import { type Html, html } from '../html.js';
import { type PageContext, page } from '../layout.js';
import { agentHref, chips, csrfField, memoryAction, memoryHref, when } from '../parts.js';

/** What the edit form sent, kept to show again when the change was refused. */
export interface Draft {
  content: string;
  title: string;
  tags: string;
  importance: string;
  pinned: boolean;
  expires_at: string;
  metadata: string;
  force: boolean;
}

const draftOf = (m: MemoryRecord): Draft => ({
  content: m.content,
  title: m.title ?? '',
  tags: m.tags.join(', '),
  importance: String(m.importance),
  pinned: m.pinned,
  expires_at: m.expires_at ?? '',
  metadata: JSON.stringify(m.metadata, null, 2),
  force: false,
});

/** The memory as batch_get returns it (so the page shows what agents read), or undefined when NOT_FOUND. */
async function read(app: App, agent: string, id: string): Promise<MemoryRecord | undefined> {
  const [r] = await callTool(app, tools.get, agent, { ids: [id] });
  if (r!.status === 'ok') return r!.memory as MemoryRecord;
  if (r!.error?.code === 'NOT_FOUND' || r!.error?.code === 'VALIDATION_ERROR') return undefined;
  throw new HttpRefusal(500, r!.error?.code ?? 'INTERNAL', r!.error?.message ?? 'reading the memory failed');
}

const notFound = (agent: string, id: string) =>
  new HttpRefusal(404, 'NOT_FOUND', `agent ${agent} has no memory with id "${id}" (deleted, expired, or never written)`);

/** `/ui/agents/<agent>/memory?id=<id>`: every field, its session neighbours, the edit and delete forms. */
export async function memoryPage(
  app: App,
  browser: Browser,
  agent: string,
  id: string,
  ctx: PageContext,
  refused?: { draft: Draft; code: string; message: string },
): Promise<Html> {
  const m = await read(app, agent, id);
  if (!m) throw notFound(agent, id);
  const stored = await browser.memory(namespaceOf(agent), id, Date.now());
  const around = stored ? await browser.neighbours(stored, Date.now(), 3) : [];
  const d = refused?.draft ?? draftOf(m);
  const field = (name: string, value: Html | string | number) => html`<dt>${name}</dt><dd data-field="${name}">${value}</dd>`;
  const body = html`<div class="crumbs"><a href="/ui/">Agents</a> / <a href="${agentHref(agent)}">${agent}</a> /</div>
<h1>${m.title ?? m.id}</h1>
${refused ? html`<div class="flash bad" role="alert" data-error="${refused.code}">${refused.code}: ${refused.message}</div>` : ''}
<div class="grid top">
<section class="card">
<div class="content" data-content>${m.content}</div>
<div class="meta"><span>${chips(m)}</span></div>
</section>
<section class="card">
<dl class="record" data-record>
${field('id', html`<code>${m.id}</code>`)}
${field('version', m.version)}
${field('type', m.type)}
${field('title', m.title ?? '–')}
${field('tags', m.tags.length === 0 ? '–' : m.tags.join(', '))}
${field('importance', m.importance)}
${field('confidence', m.confidence)}
${field('pinned', m.pinned ? 'yes' : 'no')}
${field('immutable', m.immutable ? 'yes' : 'no')}
${field('expires', when(m.expires_at))}
${field('source', m.source)}
${field('provenance', m.provenance)}
${field('session', html`<a class="mono" href="${agentHref(agent, { session: m.session_id })}">${m.session_id}</a>`)}
${field('created', when(m.created_at))}
${field('updated', when(m.updated_at))}
${field('metadata', html`<code>${JSON.stringify(m.metadata)}</code>`)}
</dl>
</section>
</div>
<h2>Session neighbours</h2>
${around.length === 0
    ? html`<p class="muted">No other live memory was written next to this one in its session.</p>`
    : html`<div class="card neighbours" data-neighbours>${around.map(
        (n) => html`<div><span class="chip">${n.offset > 0 ? `+${n.offset}` : n.offset}</span> <a class="mono" href="${memoryHref(agent, n.memory.id)}">${n.memory.title ?? n.memory.id}</a> <span class="muted">${when(n.memory.created_at)}</span><div class="content">${n.memory.content}</div></div>`,
      )}</div>`}
<h2>Edit</h2>
<form class="card" method="post" action="${memoryAction(agent, 'edit')}" data-form="edit">
${csrfField(ctx.csrf)}
<input type="hidden" name="id" value="${m.id}">
<input type="hidden" name="expected_version" value="${m.version}">
${m.immutable ? html`<p class="note">This memory is immutable: the tools refuse to change it unless forced.</p>` : ''}
<div class="fields">
<label class="wide">Content<textarea name="content" rows="5" required>${d.content}</textarea></label>
<label>Title<input name="title" value="${d.title}" placeholder="none"></label>
<label>Tags (comma-separated)<input name="tags" value="${d.tags}"></label>
<label>Importance (0–1)<input type="number" name="importance" min="0" max="1" step="0.01" value="${d.importance}"></label>
<label>Expires (ISO-8601; empty: never)<input name="expires_at" value="${d.expires_at}" placeholder="never" class="mono"></label>
<label class="check"><input type="checkbox" name="pinned" value="1"${d.pinned ? html` checked` : ''}> Pinned</label>
<label class="wide">Metadata (JSON object)<textarea name="metadata" class="mono" rows="4">${d.metadata}</textarea></label>
</div>
<div class="actions">
<button type="submit">Save as version ${m.version + 1}</button>
${m.immutable ? html`<label class="check"><input type="checkbox" name="force" value="1"${d.force ? html` checked` : ''}> Force (edit although immutable)</label>` : ''}
<span class="muted small">Refused if someone else changed it since version ${m.version}.</span>
</div>
</form>
<h2>Delete</h2>
<form class="card" method="post" action="${memoryAction(agent, 'delete')}" data-form="delete">
${csrfField(ctx.csrf)}
<input type="hidden" name="id" value="${m.id}">
<p class="muted small">Deleting is permanent: the memory is gone from every later read and search at once.</p>
<div class="actions"><button type="submit" class="danger">Delete this memory</button>
${m.immutable ? html`<label class="check"><input type="checkbox" name="force" value="1"> Force (delete although immutable)</label>` : ''}</div>
</form>`;
  return page(ctx, m.title ?? m.id, 'agents', body);
}

export type EditOutcome = { ok: true; message: string } | { ok: false; draft: Draft; code: string; message: string };

/**
 * The edit form → one batch_update item holding only what changed, with the
 * version the form was made from as `expected_version`. Metadata is edited
 * whole and sent as the JSON Merge Patch that turns the stored object into
 * the edited one (removed keys become null).
 */
export async function editMemory(app: App, agent: string, id: string, form: URLSearchParams): Promise<EditOutcome> {
  const draft: Draft = {
    content: form.get('content') ?? '',
    title: form.get('title') ?? '',
    tags: form.get('tags') ?? '',
    importance: form.get('importance') ?? '',
    pinned: form.get('pinned') === '1',
    expires_at: (form.get('expires_at') ?? '').trim(),
    metadata: form.get('metadata') ?? '{}',
    force: form.get('force') === '1',
  };
  const refuse = (code: string, message: string): EditOutcome => ({ ok: false, draft, code, message });
  const m = await read(app, agent, id);
  if (!m) throw notFound(agent, id);
  let metadata: unknown;
  try {
    metadata = JSON.parse(draft.metadata.trim() === '' ? '{}' : draft.metadata);
  } catch (err) {
    return refuse('VALIDATION_ERROR', `metadata is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return refuse('VALIDATION_ERROR', 'metadata must be a JSON object');
  const expected = Number(form.get('expected_version'));

  const change: Record<string, unknown> = {};
  if (draft.content !== m.content) change.content = draft.content;
  const title = draft.title.trim() === '' ? null : draft.title;
  if (title !== m.title) change.title = title;
  const tags = draft.tags.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (!jsonEqual(tags, m.tags)) change.tags = tags;
  const importance = Number(draft.importance);
  if (draft.importance.trim() === '' || !Number.isFinite(importance)) change.importance = draft.importance;
  else if (importance !== m.importance) change.importance = importance;
  if (draft.pinned !== m.pinned) change.pinned = draft.pinned;
  const expires = draft.expires_at === '' ? null : /^\d{4}-\d{2}-\d{2}$/.test(draft.expires_at) ? `${draft.expires_at}T00:00:00Z` : draft.expires_at;
  // A text that is no time (NaN) never equals the stored one, so the tool reports it.
  if ((expires === null ? null : Date.parse(expires)) !== (m.expires_at === null ? null : Date.parse(m.expires_at))) change.expires_at = expires;
  const patch = mergePatchBetween(m.metadata, metadata as Record<string, unknown>);
  if (patch !== undefined) change.metadata = patch;
  if (Object.keys(change).length === 0) return { ok: true, message: `Nothing changed: ${id} stays at version ${m.version}.` };

  const [r] = await callTool(app, tools.update, agent, {
    updates: [{ id, ...change, expected_version: Number.isInteger(expected) ? expected : m.version }],
    ...(draft.force && { options: { force: true } }),
  });
  if (r!.status !== 'ok') return refuse(r!.error?.code ?? 'INTERNAL', `${r!.error?.message ?? 'refused'}${r!.error?.field ? ` (${r!.error.field})` : ''}`);
  return { ok: true, message: r!.action === 'updated' ? `Saved: ${id} is now at version ${String(r!.version)}.` : `Nothing changed: ${id} stays at version ${String(r!.version)}.` };
}

/** Deletes through batch_delete; `force` for immutable memories, as the tool wants. */
export async function deleteMemory(app: App, agent: string, id: string, form: URLSearchParams): Promise<{ ok: boolean; code?: string; message: string }> {
  const [r] = await callTool(app, tools.delete, agent, { ids: [id], ...(form.get('force') === '1' && { options: { force: true } }) });
  if (r!.status === 'ok') return { ok: true, message: `Deleted ${id}.` };
  return { ok: false, code: r!.error?.code ?? 'INTERNAL', message: `${r!.error?.code}: ${r!.error?.message}` };
}

/** The RFC 7386 patch that turns `from` into `to`, or undefined when they are equal. */
function mergePatchBetween(from: Record<string, unknown>, to: Record<string, unknown>): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(from)) if (!Object.hasOwn(to, key)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    const old = from[key];
    if (Object.hasOwn(from, key) && jsonEqual(old, value)) continue;
    const both = isObject(old) && isObject(value);
    // Nested objects are diffed too (a patch merges them); a null in the edited object removes its key, as RFC 7386 cannot store null.
    patch[key] = both ? (mergePatchBetween(old, value) ?? {}) : value;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
