import { quantile, type RecentCall } from '../batch/recent.js';
import { type Html, html } from './html.js';

const W = 640;
const H = 170;
const PAD = { left: 56, right: 10, top: 12, bottom: 26 };
const ACCENT = '#2454c5';

/** A round axis maximum at or above `max`: 1, 2, 5 × 10^n. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= max)!;
}

const fmt = (n: number) => (n >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1));

function frame(label: string, max: number, unit: string): Html {
  const innerH = H - PAD.top - PAD.bottom;
  const ticks = [0, 0.5, 1].map((f) => {
    const y = PAD.top + innerH * (1 - f);
    return html`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#e6e9ef" stroke-width="1"/><text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end">${fmt(max * f)}${unit}</text>`;
  });
  return html`<title>${label}</title>${ticks}`;
}

/** Bars of memories written per day, oldest left; a day label under every few bars. */
export function writesChart(days: ReadonlyArray<{ day: string; count: number }>): Html {
  const max = niceMax(Math.max(0, ...days.map((d) => d.count)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = innerW / Math.max(1, days.length);
  const every = Math.ceil(days.length / 6);
  const bars = days.map((d, i) => {
    const h = (d.count / max) * innerH;
    const x = PAD.left + i * step;
    return html`<rect x="${(x + step * 0.15).toFixed(1)}" y="${(PAD.top + innerH - h).toFixed(1)}" width="${(step * 0.7).toFixed(1)}" height="${h.toFixed(1)}" rx="2" fill="${ACCENT}"><title>${d.day}: ${d.count}</title></rect>${
      (days.length - 1 - i) % every === 0 ? html`<text x="${(x + step / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle">${d.day.slice(5)}</text>` : ''
    }`;
  });
  const total = days.reduce((n, d) => n + d.count, 0);
  return html`<figure class="card" aria-label="Memories written per day">
<div class="legend"><span><b>Memories written per day</b> (last ${days.length} days, UTC; live memories)</span><span>${total} in all</span></div>
<svg viewBox="0 0 ${W} ${H}" role="img" data-chart="writes">${frame('Memories written per day', max, '')}${bars}</svg>
</figure>`;
}

/** The recent batch_search calls' wall times as bars, with their p50 and p95 as lines. */
export function latencyChart(calls: readonly RecentCall[]): Html {
  const ms = calls.map((c) => c.ms);
  const p50 = quantile(ms, 0.5);
  const p95 = quantile(ms, 0.95);
  const max = niceMax(Math.max(0, ...ms));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = innerW / Math.max(1, calls.length);
  const y = (v: number) => (PAD.top + innerH * (1 - v / max)).toFixed(1);
  const bars = calls.map((c, i) => {
    const h = (c.ms / max) * innerH;
    return html`<rect x="${(PAD.left + i * step + step * 0.1).toFixed(1)}" y="${(PAD.top + innerH - h).toFixed(1)}" width="${Math.max(0.5, step * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="#9fb4e6"><title>${new Date(c.at).toISOString()}: ${c.ms.toFixed(1)} ms</title></rect>`;
  });
  const line = (v: number | undefined, color: string, name: string) =>
    v === undefined ? '' : html`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="${color}" stroke-width="2"${name === 'p95' ? html` stroke-dasharray="6 4"` : ''}><title>${name} ${v.toFixed(1)} ms</title></line>`;
  return html`<figure class="card" aria-label="Search latency">
<div class="legend"><span><b>Search latency</b> (last ${calls.length} batch_search calls in this process)</span>
<span><span class="swatch p50" aria-hidden="true"></span>p50 <b data-p50>${p50 === undefined ? '–' : `${p50.toFixed(1)} ms`}</b></span>
<span><span class="swatch p95" aria-hidden="true"></span>p95 <b data-p95>${p95 === undefined ? '–' : `${p95.toFixed(1)} ms`}</b></span></div>
${calls.length === 0
    ? html`<p class="muted small">No searches yet in this process. Searches made here, and by agents when the inspector runs inside <code>memlane serve --http --ui</code>, appear here.</p>`
    : html`<svg viewBox="0 0 ${W} ${H}" role="img" data-chart="latency">${frame('Search latency', max, ' ms')}${bars}${line(p50, '#1e7a46', 'p50')}${line(p95, '#b3261e', 'p95')}</svg>`}
</figure>`;
}
