import type { Case, Mode, System } from './cases.js';
import type { Latency } from './stats.js';
import { MiB, round } from './stats.js';

type Of<K extends Case['case']> = Extract<Case, { case: K }>;

const find = <K extends Case['case']>(cases: Case[], kind: K, pred: (c: Of<K>) => boolean = () => true): Of<K> | undefined =>
  cases.find((c): c is Of<K> => c.case === kind && pred(c as Of<K>));

/**
 * memlane's numbers divided by each other system's at the same size: ingest
 * throughput (above 1: memlane ingests faster) and search p50/p99 per mode and
 * queries per call (below 1: memlane answers faster). server-memory has one
 * search, compared with every memlane mode.
 */
export function ratios(cases: Case[]): Of<'ratio'>[] {
  const out: Of<'ratio'>[] = [];
  const sizes = [...new Set(cases.filter((c) => c.case !== 'ratio' && c.system === 'memlane').map((c) => c.n))];
  for (const n of sizes) {
    const mine = find(cases, 'ingest', (c) => c.system === 'memlane' && c.n === n);
    for (const vs of ['server-memory', 'lancedb-raw'] as const) {
      const theirs = find(cases, 'ingest', (c) => c.system === vs && c.n === n);
      if (mine && theirs && theirs.per_s > 0) out.push(ratio(n, vs, 'ingest_per_s', mine.per_s, theirs.per_s));
      for (const s of cases) {
        if (s.case !== 'search' || s.system !== 'memlane' || s.n !== n || s.state !== 'settled' || s.mode === 'substring') continue;
        const other = find(cases, 'search', (c) => c.system === vs && c.n === n && c.queries_per_call === s.queries_per_call && (vs === 'server-memory' || c.mode === s.mode));
        if (!other) continue;
        const extra = { mode: s.mode, queries_per_call: s.queries_per_call };
        if (other.call_ms.p50 > 0) out.push({ ...ratio(n, vs, 'search_p50_ms', s.call_ms.p50, other.call_ms.p50), ...extra });
        if (other.call_ms.p99 > 0) out.push({ ...ratio(n, vs, 'search_p99_ms', s.call_ms.p99, other.call_ms.p99), ...extra });
      }
    }
  }
  return out;
}

function ratio(n: number, vs: 'server-memory' | 'lancedb-raw', metric: Of<'ratio'>['metric'], memlane: number, other: number): Of<'ratio'> {
  return { case: 'ratio', n, vs, metric, memlane, other, ratio: round(memlane / other, 3) };
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const lat = (l: Latency) => `${ms(l.p50)} / ${ms(l.p95)} / ${ms(l.p99)}`;
const times = (x: number | undefined) => (x === undefined ? '' : `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2)}×`);
const mib = (b: number) => (b / MiB).toFixed(b < 10 * MiB ? 2 : 1);

/** The human table: one block per size, one column per system, ratios on the right. */
export function table(cases: Case[], heading: string[]): string {
  const out = [...heading, ''];
  const rs = cases.filter((c): c is Of<'ratio'> => c.case === 'ratio');
  const sizes = [...new Set(cases.filter((c) => c.case !== 'ratio').map((c) => c.n))].sort((a, b) => a - b);
  const systems: System[] = ['memlane', 'server-memory', 'lancedb-raw'];
  for (const n of sizes) {
    const at = cases.filter((c): c is Exclude<Case, Of<'ratio'>> => c.case !== 'ratio' && c.n === n);
    const present = systems.filter((s) => at.some((c) => c.system === s));
    const transport = at.find((c) => c.system === 'memlane')?.transport ?? '';
    const header = [`N = ${int(n)}${transport ? ` (memlane over ${transport})` : ''}`, ...present, ...(present.includes('server-memory') ? ['memlane/peer'] : []), ...(present.includes('lancedb-raw') ? ['memlane/raw'] : [])];
    const rows: string[][] = [];
    const cell = (s: System, f: (c: Exclude<Case, Of<'ratio'>>[]) => string | undefined) => f(at.filter((c) => c.system === s)) ?? '—';
    const ratioCells = (f: (r: Of<'ratio'>) => boolean) => [
      ...(present.includes('server-memory') ? [times(rs.find((r) => r.n === n && r.vs === 'server-memory' && f(r))?.ratio)] : []),
      ...(present.includes('lancedb-raw') ? [times(rs.find((r) => r.n === n && r.vs === 'lancedb-raw' && f(r))?.ratio)] : []),
    ];
    const row = (label: string, f: (c: Exclude<Case, Of<'ratio'>>[]) => string | undefined, rf?: (r: Of<'ratio'>) => boolean) =>
      rows.push([label, ...present.map((s) => cell(s, f)), ...(rf ? ratioCells(rf) : ratioCells(() => false))]);

    const get = <K extends Case['case']>(cs: Case[], k: K, p: (c: Of<K>) => boolean = () => true) => find(cs, k, p);
    row('ingest, items/s (call p50 ms)', (cs) => {
      const c = get(cs, 'ingest');
      return c && `${int(c.per_s)} (${ms(c.call_ms.p50)})${c.errors ? ` ${c.errors} errors` : ''}`;
    }, (r) => r.metric === 'ingest_per_s');
    row('first write call of a fresh server, ms', (cs) => {
      const c = get(cs, 'ingest');
      return c?.first_ms === undefined ? undefined : ms(c.first_ms);
    });
    row('search hybrid ×1 right after ingest, p50/p95/p99 ms', (cs) => {
      const c = get(cs, 'search', (x) => x.state === 'fresh');
      return c && lat(c.call_ms);
    });
    const perCalls = [...new Set(at.filter((c): c is Of<'search'> => c.case === 'search' && c.state === 'settled').map((c) => c.queries_per_call))].sort((a, b) => a - b);
    const modes: Mode[] = ['vector', 'text', 'hybrid'];
    for (const mode of modes) {
      if (!at.some((c) => c.case === 'search' && c.mode === mode)) continue;
      for (const k of perCalls) {
        row(`search ${mode} ×${k}, p50/p95/p99 ms`, (cs) => {
          const c = get(cs, 'search', (x) => x.state === 'settled' && x.queries_per_call === k && (x.mode === mode || x.mode === 'substring'));
          return c && `${lat(c.call_ms)}${c.errors ? ` (${c.errors} errors)` : ''}`;
        }, (r) => r.metric === 'search_p50_ms' && r.mode === mode && r.queries_per_call === k);
      }
      row(`hit@10 ${mode}: phrase / keyword`, (cs) => {
        const ss = cs.filter((c): c is Of<'search'> => c.case === 'search' && c.state === 'settled' && (c.mode === mode || c.mode === 'substring'));
        if (ss.length === 0) return undefined;
        const share = (kind: 'phrase' | 'keyword') => {
          const total = ss.reduce((a, c) => a + c.queries[kind], 0);
          return total === 0 ? 0 : ss.reduce((a, c) => a + c.hit10[kind] * c.queries[kind], 0) / total;
        };
        return `${share('phrase').toFixed(3)} / ${share('keyword').toFixed(3)}`;
      });
    }
    row('batch_get ×100 ids, p50/p95/p99 ms', (cs) => {
      const c = get(cs, 'get');
      return c && lat(c.call_ms);
    });
    for (const kind of ['update', 'delete'] as const) {
      row(`batch_${kind}, items/s (call p50 ms)`, (cs) => {
        const c = get(cs, kind);
        return c && `${int(c.per_s)} (${ms(c.call_ms.p50)})${c.errors ? ` ${c.errors} errors` : ''}`;
      });
    }
    row('peak RSS MiB: ingest / serve', (cs) => {
      const c = get(cs, 'memory');
      return c && `${c.peak_rss_mb.ingest ?? '?'} / ${c.peak_rss_mb.serve ?? '?'}`;
    });
    row('disk MiB: after ingest / settled', (cs) => {
      const c = get(cs, 'disk');
      return c && `${mib(c.bytes_after_ingest)} / ${mib(c.bytes_settled)}`;
    });
    row('startup → first tools/list, ms median (min–max)', (cs) => {
      const c = get(cs, 'startup');
      return c && `${ms(c.ms.median)} (${ms(c.ms.min)}–${ms(c.ms.max)})`;
    });
    row('compact, s', (cs) => {
      const c = get(cs, 'compact');
      return c && c.seconds.toFixed(2);
    });
    out.push(render([header, ...rows]), '');
  }
  if (cases.some((c) => c.case === 'search' && c.system === 'server-memory')) {
    out.push('server-memory has one search (a substring test, one query per call), shown in every mode row; its ×10 is 10 calls in a row.');
  }
  out.push('Ratios are memlane ÷ the other system in this run: above 1× on ingest is faster, below 1× on search p50 is faster.');
  return out.join('\n');
}

function render(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r, ri) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + (ri === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}
