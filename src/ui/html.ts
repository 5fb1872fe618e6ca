/**
 * HTML built only through `html`: every interpolated value is escaped unless
 * it is already Html (made here), so memory content, tags, metadata and ids,
 * all untrusted, can never become markup. There is no other way to put a
 * string into a page.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new Html(out);
}

/** A URL path with each segment percent-encoded, and a query string from the defined values. */
export function href(path: readonly string[], query: Record<string, string | number | undefined> = {}): string {
  const q = Object.entries(query).filter(([, v]) => v !== undefined && v !== '');
  const qs = q.length === 0 ? '' : `?${new URLSearchParams(q.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
  return `/${path.map(encodeURIComponent).join('/')}${qs}`;
}
