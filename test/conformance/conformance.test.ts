/**
 * The MCP project's conformance suite (@modelcontextprotocol/conformance
 * 0.1.13, the newest that runs on Node 20) against memlane's HTTP server. The
 * suite cannot send an Authorization header, so it talks to a loopback proxy
 * that adds the bearer token and passes Host and Origin through unchanged
 * (its DNS-rebinding scenario sends a foreign Host through it).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/_spawn.js';
import { startBearerProxy } from '../helpers/bearer-proxy.js';
import { useHttpHarness } from '../http/_http.js';

const SUITE = join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const EXPECTED_FAILURES = join(ROOT, 'test', 'conformance', 'expected-failures.yaml');

/** The scenarios that test no fixture of the suite's reference server: all must pass. */
const GENERIC = ['server-initialize', 'ping', 'tools-list', 'logging-set-level', 'dns-rebinding-protection', 'server-sse-multiple-streams'];

/** Async spawn: the server under test runs in this process, and a blocked event loop would hang both. */
function runSuite(url: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SUITE, 'server', '--url', url, '--suite', 'all', '--expected-failures', EXPECTED_FAILURES], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('MCP conformance suite 0.1.13 against memlane serve --http', () => {
  const h = useHttpHarness();

  it('passes every generic scenario; only fixture scenarios fail, exactly those listed as expected', { timeout: 180_000 }, async () => {
    const proxy = await startBearerProxy(new URL(h().url), await h().token('conformance'));
    try {
      const { code, out } = await runSuite(`${proxy.url}/mcp`);
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const line = (name: string) => plain.split('\n').find((l) => new RegExp(`^[✓✗] ${name}: `).test(l));
      for (const name of GENERIC) expect(line(name), `${name}\n${plain.slice(-3000)}`).toMatch(/^✓ .*: [1-9]\d* passed, 0 failed$/);
      expect(plain).not.toMatch(/Unexpected failures|Stale baseline entries/);
      expect(code, plain.slice(-3000)).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
