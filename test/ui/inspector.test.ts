/**
 * The web inspector end to end: two real memlane processes on one temp
 * database (the agents' `serve --http` and the operator's `memlane ui`), a
 * real MCP client filling it and checking what the inspector changed, and
 * Debian's chromium clicking through the pages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, runCli, spawnRaw, tempDir, type RawChild } from '../e2e/_spawn.js';
import { type HttpClient, connectClient, raw } from '../http/_http.js';
import { LoginLinks, launchChromium, shoot, signIn, waitForStderr } from './_ui.js';

const XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>';
/** Hostile values for the fields that end up in attributes and headings, not only in text. */
const XSS_TITLE = '"><svg onload=alert(3)>';
const XSS_TAG = "'\"><svg onload=alert(4)>";
const XSS_META = { note: '</code><script>alert(5)</script>' };

let env: Record<string, string>;
let agents: RawChild;
let ui: RawChild;
let mcpUrl: string;
let uiOrigin: string;
let links: LoginLinks;
let browser: Browser;
let alice: HttpClient;
let aliceToken: string;
let ids: { tea: string; xss: string; lisbon: string; bees: string; music: string; question: string; basil: string };
let secondSession: string;

async function token(agent: string): Promise<{ token: string; session_id: string }> {
  const made = await runCli(['session', 'create', '--agent', agent, '--json'], env);
  expect(made.code, made.stderr).toBe(0);
  return JSON.parse(made.stdout) as { token: string; session_id: string };
}

const get = async (id: string) => (await alice.ok('batch_get', { ids: [id] })).results[0];

beforeAll(async () => {
  env = { MEMLANE_DB: tempDir('memlane-ui-'), MEMLANE_MAINTENANCE_INTERVAL_MS: '0' };
  const a = await token('alice');
  aliceToken = a.token;
  const a2 = await token('alice');
  secondSession = a2.session_id;
  const b = await token('bob');

  agents = spawnRaw(env, ['serve', '--http', '--port', '0']);
  mcpUrl = (await waitForStderr(agents, /listening on (http:\/\/\S+\/mcp)/, 'its URL'))[1]!;
  ui = spawnRaw(env, ['ui', '--port', '0']);
  const first = (await waitForStderr(ui, /inspector at (http:\/\/\S+)\/ui\/login\?secret=/, 'its login link'))[1]!;
  uiOrigin = first;
  links = new LoginLinks(ui);

  alice = await connectClient(mcpUrl, aliceToken);
  const filler = Array.from({ length: 25 }, (_, i) => ({
    content: `Garden note ${i + 1}: the tomatoes on bed ${i + 1} need water`,
    type: i % 2 === 0 ? 'fact' : 'event',
    tags: i % 2 === 0 ? ['garden'] : ['garden', 'watering'],
  }));
  const named = [
    { content: 'The user prefers green tea in the morning, never coffee', type: 'preference', tags: ['drinks'], title: 'Morning drink' },
    { content: XSS, type: 'fact', tags: ['hostile', XSS_TAG], title: XSS_TITLE, metadata: XSS_META },
    { content: 'The user was born in Lisbon', type: 'fact', tags: ['bio'], immutable: true },
    { content: 'The user keeps bees on the roof', type: 'fact', tags: ['bees'], metadata: { place: 'roof', hives: 2 } },
    { content: 'The user dislikes loud music at dinner', type: 'preference', tags: ['music'] },
    { content: 'The user asked what to plant next to tomatoes?', type: 'event', tags: ['garden'] },
    { content: 'Basil grows well next to tomatoes', type: 'fact', tags: ['garden'] },
  ];
  const made = await alice.ok('batch_remember', { memories: [...filler, ...named] });
  expect(made.succeeded).toBe(32);
  const at = (i: number) => made.results[25 + i].id as string;
  ids = { tea: at(0), xss: at(1), lisbon: at(2), bees: at(3), music: at(4), question: at(5), basil: at(6) };

  const other = await connectClient(mcpUrl, a2.token);
  expect((await other.ok('batch_remember', { memories: [{ content: 'Written in the second session of alice', tags: ['second'] }] })).succeeded).toBe(1);
  await other.close();
  const bob = await connectClient(mcpUrl, b.token);
  expect((await bob.ok('batch_remember', { memories: [{ content: 'Bob likes chess' }, { content: 'Bob lives in Porto' }] })).succeeded).toBe(2);
  await bob.close();

  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await alice?.close().catch(() => undefined);
  await browser?.close();
  await cleanup();
});

/** Records every dialog a page opens (none may open). */
function watchDialogs(page: Page): string[] {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return dialogs;
}

describe('signing in to the inspector', () => {
  it('the printed link signs a browser in with an HttpOnly SameSite=Strict cookie and drops the secret from the address; the link works once', async () => {
    const link = await links.next();
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(link);
    expect(res?.status()).toBe(200);
    expect(page.url()).toBe(`${uiOrigin}/ui/`);
    expect(page.url()).not.toContain('secret');
    const [cookie] = await context.cookies(`${uiOrigin}/ui/`);
    expect(cookie).toMatchObject({ name: 'memlane_ui', httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(await page.locator('h1').textContent()).toBe('Agents');

    // The same link again, in another browser: refused.
    const other = await browser.newContext();
    const again = await (await other.newPage()).goto(link);
    expect(again?.status()).toBe(401);
    await other.close();
    await context.close();
  });

  it('without the secret, with a wrong one, or with an agent token, every page is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const path of ['/ui/', '/ui/agents/alice', `/ui/agents/alice/memory?id=${ids.tea}`, '/ui/sessions', '/ui/login', '/ui/login?secret=wrong']) {
      const res = await page.goto(`${uiOrigin}${path}`);
      expect(res?.status(), path).toBe(401);
      expect(await page.content()).not.toContain('green tea');
    }
    const good = await links.next();
    const wrong = good.replace(/secret=(.)/, (_, c: string) => `secret=${c === 'A' ? 'B' : 'A'}`);
    expect((await page.goto(wrong))?.status()).toBe(401);
    // An agent's bearer token is no key to the inspector.
    const bearer = await raw(`${uiOrigin}/ui/agents/alice`, { method: 'GET', headers: { Authorization: `Bearer ${aliceToken}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.text).not.toContain('green tea');
    expect((await page.goto(`${uiOrigin}/ui/`))?.status()).toBe(401);
    await shoot(page, 'signed-out');
    // The wrong secret did not use up the right one.
    expect((await page.goto(good))?.status()).toBe(200);
    await context.close();
  });
});

describe('browsing', () => {
  it('the overview lists each agent with its memories, sessions, bytes and embedder, and the charts', async () => {
    const { context, page } = await signIn(browser, links);
    const row = (agent: string) => page.locator(`tr[data-agent="${agent}"]`);
    expect(await row('alice').locator('[data-memories]').textContent()).toBe('33');
    expect(await row('bob').locator('[data-memories]').textContent()).toBe('2');
    expect(await row('alice').textContent()).toContain('2 (2)');
    expect(await row('alice').textContent()).toMatch(/local\/hash-ngram-v1 \(\d+-d\)/);
    expect(await row('alice').textContent()).toMatch(/\d+(\.\d)? (KiB|MiB)/);
    expect(await page.locator('svg[data-chart="writes"] rect').count()).toBe(30);
    await shoot(page, 'agents');
    await context.close();
  });

  it("an agent's memories come newest first, 20 a page, with every field, and filter by type, tag, session and date range", async () => {
    const { context, page } = await signIn(browser, links);
    await page.click('a[href="/ui/agents/alice"]');
    expect(await page.locator('[data-range]').first().textContent()).toBe('1–20 of 33');
    const cards = page.locator('article.memory');
    expect(await cards.count()).toBe(20);
    // Newest first: the second session's memory was written last.
    expect(await cards.first().locator('[data-content]').textContent()).toBe('Written in the second session of alice');
    expect(await cards.first().textContent()).toMatch(/v1/);
    await shoot(page, 'memories');

    await page.click('a[rel="next"]');
    expect(await page.locator('[data-range]').first().textContent()).toBe('21–33 of 33');
    expect(await cards.count()).toBe(13);
    expect(await cards.last().locator('[data-content]').textContent()).toBe('Garden note 1: the tomatoes on bed 1 need water');

    await page.fill('input[name="tag"]', 'watering');
    await page.click('form[data-form="filters"] button[type="submit"]');
    expect(await page.locator('[data-range]').first().textContent()).toBe('1–12 of 12');
    for (const tags of await cards.locator('[data-meta]').allTextContents()) expect(tags).toContain('watering');

    await page.fill('input[name="tag"]', '');
    await page.fill('input[name="type"]', 'preference');
    await page.click('form[data-form="filters"] button[type="submit"]');
    expect((await cards.locator('[data-content]').allTextContents()).sort()).toEqual([
      'The user dislikes loud music at dinner',
      'The user prefers green tea in the morning, never coffee',
    ]);

    await page.goto(`${uiOrigin}/ui/agents/alice?session=${secondSession}`);
    expect(await cards.locator('[data-content]').allTextContents()).toEqual(['Written in the second session of alice']);

    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${uiOrigin}/ui/agents/alice?from=${today}&to=${today}`);
    expect(await page.locator('[data-range]').first().textContent()).toBe('1–20 of 33');
    await page.goto(`${uiOrigin}/ui/agents/alice?to=${yesterday}`);
    expect(await page.locator('[data-range]').first().textContent()).toBe('0–0 of 0');
    await page.goto(`${uiOrigin}/ui/agents/alice?session=nonsense`);
    expect(await page.locator('[data-problems]').textContent()).toContain('session');
    await context.close();
  });

  it('search runs batch_search with its mode, limit and filters, shows scores, and on request why each hit ranked and its neighbours', async () => {
    const { context, page } = await signIn(browser, links);
    await page.goto(`${uiOrigin}/ui/agents/alice/search`);
    await page.fill('input[name="q"]', 'what does the user drink in the morning');
    await page.click('form[data-form="search"] button[type="submit"]');
    const hits = page.locator('article.memory');
    expect(await hits.first().locator('[data-content]').textContent()).toBe('The user prefers green tea in the morning, never coffee');
    const scores = (await page.locator('[data-score]').allTextContents()).map(Number);
    expect(scores.length).toBeGreaterThan(1);
    expect(scores.every((s) => s > 0 && s <= 1)).toBe(true);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    expect(await page.locator('[data-explain]').count()).toBe(0);

    await page.goto(`${uiOrigin}/ui/agents/alice/search?q=plant+next+to+tomatoes&mode=text&limit=3&context=1&explain=1&tag=garden`);
    expect(await hits.count()).toBe(3);
    const first = hits.first();
    const why = await first.locator('[data-explain]').textContent();
    expect(why).toMatch(/Text evidence \(BM25\)\d+\.\d{3}/);
    expect(why).toContain('Vector similaritynot used');
    expect(why).toMatch(/Neighbour share\d+\.\d%/);
    expect(why).toContain('Boost×1.000');
    expect(await first.locator('[data-neighbours]').count()).toBe(1);
    for (const tags of await hits.locator('[data-meta]').allTextContents()) expect(tags).toContain('garden');
    await shoot(page, 'search');

    // The same query in vector mode reads no text.
    await page.goto(`${uiOrigin}/ui/agents/alice/search?q=bees+on+the+roof&mode=vector&limit=2&explain=1`);
    expect(await hits.first().locator('[data-explain]').textContent()).toContain('Text evidence (BM25)not used');
    await context.close();
  });
});

describe('odd ids', () => {
  it('a memory whose id is `..` (a legal id, and a path segment no URL keeps) opens from its link, takes an edit and a delete', async () => {
    expect((await alice.ok('batch_remember', { memories: [{ id: '..', content: 'A memory with two dots for an id', tags: ['dots'] }] })).results[0].action).toBe('created');
    const { context, page } = await signIn(browser, links);
    await page.goto(`${uiOrigin}/ui/agents/alice?tag=dots`);
    await page.click('article.memory .title a');
    expect(await page.locator('[data-field="id"]').textContent()).toBe('..');
    await page.fill('textarea[name="content"]', 'A memory with two dots for an id, edited');
    await page.click('form[data-form="edit"] button[type="submit"]');
    expect((await get('..')).memory).toMatchObject({ version: 2, content: 'A memory with two dots for an id, edited' });
    await page.click('form[data-form="delete"] button[type="submit"]');
    expect((await get('..')).error.code).toBe('NOT_FOUND');
    await context.close();
  });
});

describe('changing memories', () => {
  it('an edit is a batch_update: the agent sees the new version through batch_get from its own server', async () => {
    const { context, page } = await signIn(browser, links);
    await page.goto(`${uiOrigin}/ui/agents/alice/memory?id=${ids.bees}`);
    expect(await page.locator('[data-field="version"]').textContent()).toBe('1');
    await shoot(page, 'memory');
    await page.fill('textarea[name="content"]', 'The user keeps three bee hives on the roof');
    await page.fill('input[name="tags"]', 'bees, roof');
    await page.fill('input[name="importance"]', '0.9');
    await page.check('input[name="pinned"]');
    await page.fill('input[name="title"]', 'Bees');
    await page.fill('textarea[name="metadata"]', '{"place": "roof", "count": 3}');
    await page.click('form[data-form="edit"] button[type="submit"]');
    expect(await page.locator('.flash.ok').textContent()).toContain('version 2');
    expect(await page.locator('[data-field="version"]').textContent()).toBe('2');

    const r = await get(ids.bees);
    expect(r.status).toBe('ok');
    expect(r.memory).toMatchObject({
      version: 2,
      content: 'The user keeps three bee hives on the roof',
      title: 'Bees',
      tags: ['bees', 'roof'],
      importance: 0.9,
      pinned: true,
      metadata: { place: 'roof', count: 3 },
    });
    // The content was embedded again: the agent finds it by its new words.
    const found = await alice.ok('batch_search', { queries: [{ query: 'three hives', mode: 'vector', limit: 1 }] });
    expect(found.results[0].results[0].id).toBe(ids.bees);
    expect(ui.stderr()).toMatch(new RegExp(`inspector: batch_update agent=alice id=${ids.bees}: updated \\(version 2\\)`));
    expect(ui.stderr()).not.toContain('three bee hives');
    await context.close();
  });

  it('expected_version guards an edit: a form made from an older version is refused with VERSION_CONFLICT and keeps what was typed', async () => {
    const { context, page } = await signIn(browser, links);
    await page.goto(`${uiOrigin}/ui/agents/alice/memory?id=${ids.music}`);
    const changed = await alice.ok('batch_update', { updates: [{ id: ids.music, importance: 0.7 }] });
    expect(changed.results[0].version).toBe(2);
    await page.fill('textarea[name="content"]', 'The user dislikes loud music at any meal');
    const res = await Promise.all([page.waitForNavigation(), page.click('form[data-form="edit"] button[type="submit"]')]);
    expect(res[0]?.status()).toBe(409);
    expect(await page.locator('[data-error]').first().getAttribute('data-error')).toBe('VERSION_CONFLICT');
    expect(await page.inputValue('textarea[name="content"]')).toBe('The user dislikes loud music at any meal');
    expect((await get(ids.music)).memory).toMatchObject({ version: 2, content: 'The user dislikes loud music at dinner' });
    await context.close();
  });

  it('an immutable memory refuses edit and delete without force, and takes both with force', async () => {
    const { context, page } = await signIn(browser, links);
    await page.goto(`${uiOrigin}/ui/agents/alice/memory?id=${ids.lisbon}`);
    await page.fill('textarea[name="content"]', 'The user was born in Porto');
    const [edit] = await Promise.all([page.waitForNavigation(), page.click('form[data-form="edit"] button[type="submit"]')]);
    expect(edit?.status()).toBe(409);
    expect(await page.locator('[data-error]').first().getAttribute('data-error')).toBe('IMMUTABLE');
    expect((await get(ids.lisbon)).memory).toMatchObject({ version: 1, content: 'The user was born in Lisbon' });

    await page.goto(`${uiOrigin}/ui/agents/alice/memory?id=${ids.lisbon}`);
    await page.click('form[data-form="delete"] button[type="submit"]');
    expect(await page.locator('.flash.bad').textContent()).toContain('IMMUTABLE');
    expect((await get(ids.lisbon)).status).toBe('ok');

    await page.fill('textarea[name="content"]', 'The user was born in Lisbon, in 1990');
    await page.check('form[data-form="edit"] input[name="force"]');
    await page.click('form[data-form="edit"] button[type="submit"]');
    expect(await page.locator('.flash.ok').textContent()).toContain('version 2');
    expect((await get(ids.lisbon)).memory).toMatchObject({ version: 2, content: 'The user was born in Lisbon, in 1990', immutable: true });

    await page.check('form[data-form="delete"] input[name="force"]');
    await page.click('form[data-form="delete"] button[type="submit"]');
    expect(page.url()).toBe(`${uiOrigin}/ui/agents/alice`);
    expect((await get(ids.lisbon)).error.code).toBe('NOT_FOUND');
    await context.close();
  });

  it('a delete is a batch_delete: the agent gets NOT_FOUND and no longer finds it', async () => {
    const { context, page } = await signIn(browser, links);
    await page.goto(`${uiOrigin}/ui/agents/alice/memory?id=${ids.tea}`);
    await page.click('form[data-form="delete"] button[type="submit"]');
    expect(page.url()).toBe(`${uiOrigin}/ui/agents/alice`);
    expect(await page.locator('.flash.ok').textContent()).toBe(`Deleted ${ids.tea}.`);
    const r = await get(ids.tea);
    expect(r).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } });
    const search = await alice.ok('batch_search', { queries: [{ query: 'green tea morning', limit: 5 }] });
    expect(search.results[0].results.map((h: { id: string }) => h.id)).not.toContain(ids.tea);
    expect((await page.goto(`${uiOrigin}/ui/agents/alice/memory?id=${ids.tea}`))?.status()).toBe(404);
    await context.close();
  });
});

describe('untrusted content and cross-site requests', () => {
  it('a memory holding <script> and an onerror image renders as text on every page and opens no dialog', async () => {
    const { context, page } = await signIn(browser, links);
    const dialogs = watchDialogs(page);
    for (const path of [`/ui/agents/alice/memory?id=${ids.xss}`, '/ui/agents/alice?tag=hostile', '/ui/agents/alice/search?q=script+alert+onerror&mode=text']) {
      await page.goto(`${uiOrigin}${path}`);
      expect(await page.locator('[data-content]').first().textContent(), path).toBe(XSS);
      expect(await page.locator('script').count(), path).toBe(0);
      expect(await page.locator('img').count(), path).toBe(0);
    }
    await page.goto(`${uiOrigin}/ui/agents/alice/memory?id=${ids.xss}`);
    expect(await page.inputValue('textarea[name="content"]')).toBe(XSS);
    expect(await page.locator('h1').textContent()).toBe(XSS_TITLE);
    expect(await page.inputValue('input[name="title"]')).toBe(XSS_TITLE);
    expect(await page.inputValue('input[name="tags"]')).toBe(`hostile, ${XSS_TAG}`);
    expect(JSON.parse(await page.inputValue('textarea[name="metadata"]'))).toEqual(XSS_META);
    expect(await page.locator('[data-field="metadata"]').textContent()).toBe(JSON.stringify(XSS_META));
    expect(await page.locator('svg[onload], [onerror], [onload]').count()).toBe(0);
    // The hostile tag as a filter value goes back into the filter form's attribute intact.
    await page.goto(`${uiOrigin}/ui/agents/alice?tag=${encodeURIComponent(XSS_TAG)}`);
    expect(await page.inputValue('input[name="tag"]')).toBe(XSS_TAG);
    expect(await page.locator('article.memory').count()).toBe(1);
    expect(await page.locator('[data-tag]').allTextContents()).toEqual(['hostile', XSS_TAG]);
    expect(await page.locator('svg[onload], [onerror], [onload], script').count()).toBe(0);
    await page.goto(`${uiOrigin}/ui/agents/alice/memory?id=${ids.xss}`);
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    await shoot(page, 'memory-hostile');
    await context.close();
  });

  describe('a page elsewhere that posts to the inspector', () => {
    let evil: Server;
    let evilPort: number;
    let target: string;
    beforeAll(async () => {
      target = ids.basil;
      evil = createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(`<form id="f" method="post" action="${uiOrigin}/ui/agents/alice/memory/delete"><input name="id" value="${target}"><input name="force" value="1"></form><script>document.getElementById('f').submit()</script>`);
      });
      await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
      evilPort = (evil.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => evil.close(() => resolve())));

    it('is refused without the form token, from another site and from another port of this machine, and nothing is deleted', async () => {
      const { context, page } = await signIn(browser, links);
      // Another site (localhost is not 127.0.0.1): the SameSite cookie stays home.
      const fromSite = page.waitForResponse((r) => r.url() === `${uiOrigin}/ui/agents/alice/memory/delete`);
      await page.goto(`http://localhost:${evilPort}/`);
      const siteRes = await fromSite;
      expect(siteRes.status()).toBe(401);
      // Another port of 127.0.0.1 is the same site, so the cookie goes along: the Origin check and the missing token refuse it.
      const fromPort = page.waitForResponse((r) => r.url() === `${uiOrigin}/ui/agents/alice/memory/delete`);
      await page.goto(`http://127.0.0.1:${evilPort}/`);
      const portRes = await fromPort;
      expect(portRes.status()).toBe(403);
      expect(await portRes.text()).toContain('FORBIDDEN');
      // With the cookie and the right origin but no token (or a wrong one): refused too.
      for (const form of [{ id: target, force: '1' }, { id: target, force: '1', csrf: 'not-the-token' }] as Array<Record<string, string>>) {
        const res = await context.request.post(`${uiOrigin}/ui/agents/alice/memory/delete`, { form, headers: { Origin: uiOrigin }, maxRedirects: 0 });
        expect(res.status()).toBe(403);
        expect(await res.text()).toContain('CSRF_TOKEN_INVALID');
      }
      expect((await get(target)).status).toBe('ok');
      await context.close();
    });
  });
});

describe('sessions', () => {
  it('the page creates a session and shows its token once; revoking a session makes the MCP server refuse its token at the next call', async () => {
    const { context, page } = await signIn(browser, links);
    await page.goto(`${uiOrigin}/ui/sessions`);
    await page.fill('form[data-form="create-session"] input[name="agent"]', 'carol');
    await page.fill('form[data-form="create-session"] input[name="ttl"]', '7d');
    await page.click('form[data-form="create-session"] button[type="submit"]');
    const shown = (await page.locator('[data-token]').textContent())!;
    expect(shown).toMatch(/^mlt_[A-Za-z0-9_-]{43}$/);
    expect(page.url()).not.toContain(shown);
    expect(ui.stderr()).not.toContain(shown);
    await shoot(page, 'session-created');

    const carol = await connectClient(mcpUrl, shown);
    const wrote = await carol.ok('batch_remember', { memories: [{ content: 'Carol was made in the inspector' }] });
    expect(wrote.agent_id).toBe('carol');
    // Shown once: the list page never shows it again.
    await page.goto(`${uiOrigin}/ui/sessions`);
    expect(await page.content()).not.toContain(shown);
    await shoot(page, 'sessions');

    const sessionId = wrote.session_id as string;
    await page.locator(`tr[data-session="${sessionId}"] button`).click();
    expect(await page.locator('.flash.ok').textContent()).toContain(`Revoked ${sessionId}`);
    expect(await page.locator(`tr[data-session="${sessionId}"]`).getAttribute('data-state')).toBe('revoked');
    await expect(carol.call('batch_get', { ids: ['anything'] })).rejects.toThrow(/401|UNAUTHORIZED/);
    await carol.close().catch(() => undefined);
    await context.close();
  });
});

describe('the overview after a working session', () => {
  it('charts the latency of the searches made so far (p50 and p95) beside the writes per day', async () => {
    const { context, page } = await signIn(browser, links);
    const bars = await page.locator('svg[data-chart="latency"] rect').count();
    expect(bars).toBeGreaterThanOrEqual(4);
    expect(await page.locator('[data-p50]').textContent()).toMatch(/^\d+\.\d ms$/);
    expect(await page.locator('[data-p95]').textContent()).toMatch(/^\d+\.\d ms$/);
    const p50 = Number.parseFloat((await page.locator('[data-p50]').textContent())!);
    const p95 = Number.parseFloat((await page.locator('[data-p95]').textContent())!);
    expect(p95).toBeGreaterThanOrEqual(p50);
    expect(await page.locator('tr[data-agent="carol"] [data-memories]').textContent()).toBe('1');
    await shoot(page, 'agents-later');
    await context.close();
  });
});
