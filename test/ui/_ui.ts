/**
 * Helpers for the inspector's tests: real memlane processes (the agents'
 * `serve --http` and the operator's `ui`, or both in one with `--ui`),
 * Debian's chromium through playwright-core, and screenshots of each page
 * at desktop and phone widths into test-artifacts/ui (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, type RawChild } from '../e2e/_spawn.js';

export const ARTIFACTS = join(ROOT, 'test-artifacts', 'ui');
export const CHROMIUM = '/usr/bin/chromium';

/** Waits until the child's stderr matches `re` (20 s at most) and returns the match. */
export async function waitForStderr(child: RawChild, re: RegExp, what: string): Promise<RegExpExecArray> {
  const until = Date.now() + 20_000;
  for (;;) {
    const m = re.exec(child.stderr());
    if (m) return m;
    if (child.child.exitCode !== null) throw new Error(`memlane exited before ${what}: ${child.stderr()}`);
    if (Date.now() > until) throw new Error(`memlane did not print ${what}: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The login links a process printed, in order: the first when it started,
 * then each next one after the previous was used.
 */
export class LoginLinks {
  private used = 0;
  constructor(private readonly child: RawChild) {}

  all(): string[] {
    return [...this.child.stderr().matchAll(/inspector (?:at|login link used; the next one) (http:\/\/\S+\/ui\/login\?secret=[A-Za-z0-9_-]+)/g)].map((m) => m[1]!);
  }

  /** The next unused link (waits for it to be printed). */
  async next(): Promise<string> {
    const until = Date.now() + 10_000;
    while (this.all().length <= this.used) {
      if (Date.now() > until) throw new Error(`no new login link printed: ${this.child.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.all()[this.used++]!;
  }
}

export async function launchChromium(): Promise<Browser> {
  // Root in a container: chromium's own sandbox needs user namespaces that are not there.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A fresh browser profile signed in with the next login link; returns the page it landed on. */
export async function signIn(browser: Browser, links: LoginLinks): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const res = await page.goto(await links.next());
  if (res?.status() !== 200) throw new Error(`sign-in landed with status ${res?.status()}: ${await page.content()}`);
  return { context, page };
}

/** Screenshots of the page as it is, at 1280×800 and 390×844 (whole page), then back to desktop. */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(ARTIFACTS, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, `${name}-390.png`), fullPage: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}-390-screen.png`) });
  // Nothing may stick out sideways on a phone: the page is exactly as wide as the screen.
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  await page.setViewportSize({ width: 1280, height: 800 });
  if (overflow > 0) throw new Error(`${name} is ${overflow} px wider than a 390-px screen`);
}
