import { sessionIdSchema } from '../scope/ids.js';
import type { SearchFilter } from '../store/filter.js';
import { type Html, html } from './html.js';

/** The filter fields of the memories and search pages, as typed in the form. */
export interface FilterValues {
  type: string;
  tag: string;
  session: string;
  from: string;
  to: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The form's filters as contract §4's search filter (the same shape
 * batch_search takes): type, tag, session, and a date range in whole UTC
 * days, `from` and `to` both included. Values that cannot be a filter are
 * reported, not silently dropped.
 */
export function parseFilters(q: URLSearchParams): { values: FilterValues; filter: SearchFilter; problems: string[] } {
  const values: FilterValues = {
    type: (q.get('type') ?? '').trim(),
    tag: (q.get('tag') ?? '').trim(),
    session: (q.get('session') ?? '').trim(),
    from: (q.get('from') ?? '').trim(),
    to: (q.get('to') ?? '').trim(),
  };
  const filter: SearchFilter = {};
  const problems: string[] = [];
  if (values.type) filter.types = [values.type.slice(0, 256)];
  if (values.tag) filter.tags_any = [values.tag.slice(0, 256)];
  if (values.session) {
    if (sessionIdSchema.safeParse(values.session).success) filter.session_id = values.session;
    else problems.push('session: a session id is ses_ and 16 lowercase hex digits');
  }
  const day = (name: 'from' | 'to', v: string, shift: number): string | undefined => {
    if (!v) return undefined;
    const t = DAY.test(v) ? Date.parse(`${v}T00:00:00Z`) : Number.NaN;
    if (Number.isNaN(t)) {
      problems.push(`${name}: give a date as YYYY-MM-DD`);
      return undefined;
    }
    return new Date(t + shift).toISOString();
  };
  // created_after and created_before are strict: one millisecond before `from`, the midnight after `to`.
  const after = day('from', values.from, -1);
  const before = day('to', values.to, 86_400_000);
  if (after) filter.created_after = after;
  if (before) filter.created_before = before;
  return { values, filter, problems };
}

export function filterFields(v: FilterValues): Html {
  return html`<label>Type<input name="type" value="${v.type}" placeholder="any" size="10"></label>
<label>Tag<input name="tag" value="${v.tag}" placeholder="any" size="10"></label>
<label>Session<input name="session" value="${v.session}" placeholder="ses_…" size="22" class="mono"></label>
<label>From<input type="date" name="from" value="${v.from}"></label>
<label>To<input type="date" name="to" value="${v.to}"></label>`;
}
