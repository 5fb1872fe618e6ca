import { Html, html } from './html.js';

/** Everything a page needs from the request: the CSP nonce, the CSRF token, the message of the last action. */
export interface PageContext {
  nonce: string;
  csrf: string;
  flash?: { ok: boolean; text: string };
}

const CSS = `
:root { --fg:#1d2430; --muted:#5b6576; --line:#dde2ea; --bg:#f6f7f9; --card:#fff; --accent:#2454c5; --ok:#1e7a46; --bad:#b3261e; --chip:#eef1f6; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color:var(--fg); background:var(--bg); }
header { background:#1d2430; color:#fff; }
header .bar { max-width:1180px; margin:0 auto; padding:10px 20px; display:flex; flex-wrap:wrap; gap:6px 18px; align-items:center; }
header .brand { font-weight:700; letter-spacing:.02em; margin-right:8px; }
header a { color:#cfd8ea; text-decoration:none; }
header a:hover, header a[aria-current] { color:#fff; text-decoration:underline; }
header form { margin-left:auto; }
header button { background:none; border:1px solid #56617a; color:#cfd8ea; border-radius:6px; padding:3px 10px; font:inherit; font-size:13px; cursor:pointer; }
main { max-width:1180px; margin:0 auto; padding:18px 20px 40px; }
h1 { font-size:22px; margin:4px 0 14px; overflow-wrap:anywhere; }
h2 { font-size:17px; margin:22px 0 10px; }
a { color:var(--accent); }
.muted { color:var(--muted); }
.small { font-size:13px; }
.crumbs { font-size:13px; color:var(--muted); margin-bottom:2px; overflow-wrap:anywhere; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px; margin:0 0 12px; }
.grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(300px, 1fr)); gap:12px; margin:14px 0; }
.grid > .card { margin:0; }
.grid.top { align-items:start; }
.solo { max-width:640px; margin-top:18px; }
figure { margin:0; }
.flash { border-radius:8px; padding:10px 14px; margin:0 0 14px; border:1px solid; overflow-wrap:anywhere; }
.flash.ok { background:#e9f6ee; border-color:#a9d8bb; color:var(--ok); }
.note { background:#fff7e6; border:1px solid #f3d08a; color:#7a5200; border-radius:8px; padding:8px 12px; margin:0 0 8px; }
.flash.bad { background:#fdecea; border-color:#f0b3ad; color:var(--bad); }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:10px; overflow:hidden; }
th, td { text-align:left; padding:8px 12px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); background:#fafbfc; }
tr:last-child td { border-bottom:none; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
code, .mono { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:13px; overflow-wrap:anywhere; }
.content { white-space:pre-wrap; overflow-wrap:anywhere; margin:6px 0 8px; }
.title { font-weight:600; overflow-wrap:anywhere; }
.meta { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:13px; color:var(--muted); }
.chip { display:inline-block; background:var(--chip); border-radius:999px; padding:1px 9px; font-size:12px; color:#33415c; margin:0 4px 2px 0; overflow-wrap:anywhere; }
.chip.pin { background:#fff3d6; color:#7a5200; }
.chip.lock { background:#fde7e7; color:#8a1c1c; }
.score { font-weight:700; font-variant-numeric:tabular-nums; }
.bar-track { display:inline-block; width:90px; height:8px; background:var(--chip); border-radius:4px; vertical-align:middle; margin-left:6px; overflow:hidden; }
form.filters { display:flex; flex-wrap:wrap; gap:10px 12px; align-items:flex-end; }
label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:3px; }
label.check { flex-direction:row; align-items:center; gap:6px; font-size:14px; color:var(--fg); }
input, select, textarea { font:inherit; font-size:14px; padding:6px 8px; border:1px solid #c5ccd8; border-radius:6px; background:#fff; color:var(--fg); max-width:100%; }
textarea { width:100%; min-height:90px; resize:vertical; }
textarea.mono { min-height:70px; }
.fields { display:grid; grid-template-columns:repeat(auto-fit, minmax(200px, 1fr)); gap:10px 14px; margin:10px 0; }
.fields label.wide { grid-column:1 / -1; }
button, .button { font:inherit; font-size:14px; padding:7px 14px; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; text-decoration:none; display:inline-block; }
button.secondary { background:#fff; color:var(--accent); }
button.danger { background:var(--bad); border-color:var(--bad); }
.actions { display:flex; flex-wrap:wrap; gap:10px; align-items:center; margin-top:8px; }
.pager { display:flex; gap:12px; align-items:center; margin:14px 0; flex-wrap:wrap; }
dl.record { display:grid; grid-template-columns:max-content 1fr; gap:6px 16px; margin:0; }
dl.record dt { color:var(--muted); font-size:13px; }
dl.record dd { margin:0; overflow-wrap:anywhere; }
.explain { display:grid; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); gap:6px 14px; font-size:13px; background:#f7f9fc; border-radius:8px; padding:8px 10px; margin-top:8px; }
.explain b { display:block; font-size:15px; font-variant-numeric:tabular-nums; }
.neighbours { border-left:3px solid var(--line); padding-left:10px; margin-top:8px; font-size:13px; }
.neighbours .content { margin:2px 0 6px; }
.token { background:#1d2430; color:#e7f0ff; padding:10px 12px; border-radius:8px; display:block; overflow-wrap:anywhere; user-select:all; }
svg { display:block; width:100%; height:auto; }
svg text { font:12px system-ui, sans-serif; fill:#5b6576; }
.legend { font-size:12px; color:var(--muted); display:flex; gap:14px; flex-wrap:wrap; }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:-1px; }
.swatch.p50 { background:#1e7a46; }
.swatch.p95 { background:#b3261e; }
@media (max-width: 640px) {
  main { padding:12px 12px 32px; }
  header .bar { padding:8px 12px; }
  h1 { font-size:19px; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display:block; width:100%; }
  table.stack thead { display:none; }
  table.stack tr { border-bottom:1px solid var(--line); padding:6px 0; }
  table.stack tr:last-child { border-bottom:none; }
  table.stack td { border:none; padding:3px 12px; display:flex; justify-content:space-between; gap:12px; text-align:right; }
  table.stack td::before { content:attr(data-label); color:var(--muted); font-size:13px; text-align:left; }
  table.stack td.lead { font-weight:600; text-align:left; }
  table.stack td.lead::before { content:none; }
  dl.record { gap:4px 12px; }
  .bar-track { width:60px; }
}
`;

/** Our own constant stylesheet: the one string put into a page unescaped. */
const STYLE = new Html(CSS);

export type Nav = 'agents' | 'sessions' | undefined;

/** A whole page: header with navigation and sign-out, the action's message, the body. */
export function page(ctx: PageContext, title: string, nav: Nav, body: Html): Html {
  const link = (to: string, label: string, key: Nav) => html`<a href="${to}"${key === nav ? html` aria-current="page"` : ''}>${label}</a>`;
  return documentOf(
    ctx.nonce,
    title,
    html`<span class="brand">memlane inspector</span>
${link('/ui/', 'Agents', 'agents')}
${link('/ui/sessions', 'Sessions', 'sessions')}
<form method="post" action="/ui/logout"><input type="hidden" name="csrf" value="${ctx.csrf}"><button type="submit">Sign out</button></form>`,
    html`
${ctx.flash ? html`<div class="flash ${ctx.flash.ok ? 'ok' : 'bad'}" role="status">${ctx.flash.text}</div>` : ''}
${body}
`,
  );
}

/** A page for someone not signed in (or refused): no navigation, nothing of the database. */
export function barePage(nonce: string, title: string, body: Html): Html {
  return documentOf(nonce, title, html`<span class="brand">memlane inspector</span>`, body);
}

/** The HTML document every page shares: head, stylesheet, the header bar's contents, main. */
function documentOf(nonce: string, title: string, bar: Html, main: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · memlane inspector</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header><div class="bar">${bar}</div></header>
<main>${main}</main>
</body>
</html>`;
}
