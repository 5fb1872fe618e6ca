/**
 * The command line never shows a person a stack trace (issue 10, point 6):
 * every failure is one line on stderr and an exit status; usage mistakes point
 * at --help; read-only commands never create a database and read one written
 * by any embedder. Every case runs the built CLI (dist/src/cli.js).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../helpers/harness.js';
import { CLI, ROOT, assertBuilt, childEnv, cleanup, runCli, tempDir, type CliRun } from './_spawn.js';

/** Asserts a failure a person can read: this exit status, nothing on stdout, exactly one line on stderr, no stack. */
function oneLine(run: CliRun, code: number, says: RegExp): string {
  expect(run.signal, `killed; stderr: ${run.stderr}`).toBeNull();
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^memlane: /);
  expect(lines[0]).toMatch(says);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

/** A database with memories and a session for agent `a`, written (in this process) by the default local embedder. */
async function seeded(memories = 3, contentChars = 40): Promise<string> {
  const dir = tempDir();
  const h = await startHarness({ dir, agent: 'a' });
  for (let done = 0; done < memories; done += 100) {
    const n = Math.min(100, memories - done);
    await h.ok('batch_remember', { memories: Array.from({ length: n }, (_, i) => ({ content: `memory ${done + i} ${'x'.repeat(contentChars)}` })) });
  }
  await h.close();
  return dir;
}

/** Runs `command` in bash with pipefail, so the exit status is memlane's unless head failed. */
function shell(command: string, env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `set -o pipefail; ${command}`], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('the command line fails in one line', () => {
  beforeAll(() => assertBuilt());
  afterEach(cleanup);

  it('export --out into a folder that does not exist', { timeout: 30_000 }, async () => {
    const db = await seeded();
    const out = join(tempDir(), 'missing', 'dump.jsonl');
    oneLine(await runCli(['export', '--agent', 'a', '--out', out], { MEMLANE_DB: db }), 1, /cannot write .*missing\/dump\.jsonl: its folder does not exist/);
    oneLine(await runCli(['export', '--agent', 'a', '--out', tempDir()], { MEMLANE_DB: db }), 1, /cannot write .*: it is a directory/);
    oneLine(await runCli(['import', join(tempDir(), 'none.jsonl')], { MEMLANE_DB: db }), 1, /cannot read .*none\.jsonl: no such file/);
    // And with the folder there, the same export works.
    const ok = await runCli(['export', '--agent', 'a', '--out', join(tempDir(), 'dump.jsonl')], { MEMLANE_DB: db });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('`memlane export | head -1` and `memlane session list | head -1`: the first line, exit 0, nothing on stderr', { timeout: 60_000 }, async () => {
    // 300 memories of 1 KB: far more than a pipe buffers, so memlane is still writing when head has gone.
    const db = await seeded(300, 1000);
    const exported = await shell(`node ${JSON.stringify(CLI)} export --agent a | head -1`, { MEMLANE_DB: db });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr.replace(/exported \d+ memories.*\n/, '')).toBe('');
    expect(JSON.parse(exported.stdout).content).toMatch(/^memory /);
    const listed = await shell(`node ${JSON.stringify(CLI)} session list | head -1`, { MEMLANE_DB: db });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toBe('');
    expect(listed.stdout).toMatch(/^session_id/);
  });

  it('stdout closed before memlane writes a byte: exit 0, no EPIPE trace', { timeout: 30_000 }, async () => {
    const db = await seeded(1);
    const child = spawn(process.execPath, [CLI, 'session', 'list'], { env: childEnv({ MEMLANE_DB: db }), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(code).toBe(0);
  });

  it('MEMLANE_EMBEDDER=openai without OPENAI_API_KEY: the server and a writing command say so in one line', { timeout: 30_000 }, async () => {
    const env = { MEMLANE_DB: tempDir(), MEMLANE_EMBEDDER: 'openai' };
    oneLine(await runCli(['session', 'create', '--agent', 'a'], env), 1, /OPENAI_API_KEY is not set/);
    oneLine(await runCli(['import', join(ROOT, 'test', 'fixtures', 'smoke-conversation.jsonl')], env), 1, /OPENAI_API_KEY is not set/);
    oneLine(await runCli([], env), 1, /OPENAI_API_KEY is not set/);
  });

  for (const command of [['stats'], ['stats', '--json'], ['export', '--agent', 'a'], ['session', 'list'], ['session', 'list', '--agent', 'a']]) {
    it(`\`memlane ${command.join(' ')}\` on a missing or mistyped MEMLANE_DB: "no memlane database at …", exit 1, nothing created`, { timeout: 30_000 }, async () => {
      const missing = join(tempDir(), 'memlnae');
      oneLine(await runCli(command, { MEMLANE_DB: missing }), 1, new RegExp(`no memlane database at ${missing}`));
      expect(existsSync(missing)).toBe(false);
      // A directory that exists but holds no database (a parent, a typo of a sibling) is left as it was.
      const empty = tempDir();
      mkdirSync(join(empty, 'unrelated'));
      oneLine(await runCli(command, { MEMLANE_DB: empty }), 1, /no memlane database at /);
      expect(readdirSync(empty)).toEqual(['unrelated']);
    });
  }

  it.each([
    { args: ['session', 'create', '--agent', 'a', 'extra'], says: /session create: unexpected argument "extra"/ },
    { args: ['session', 'list', 'extra'], says: /session list: unexpected argument "extra"/ },
    { args: ['session', 'list', '--ttl', '7d'], says: /--ttl is for session create/ },
    { args: ['session', 'revoke', 'ses_0123456789abcdef', 'again'], says: /unexpected argument "again"/ },
    { args: ['session', 'revoke'], says: /needs a session id/ },
    { args: ['session'], says: /needs an action/ },
    { args: ['session', 'make'], says: /unknown action "make"/ },
    { args: ['stats', 'extra'], says: /Unexpected argument 'extra'/ },
    { args: ['stats', '--jsno'], says: /Unknown option '--jsno' \(memlane --help/ },
    { args: ['export'], says: /--agent <id> is required/ },
    { args: ['export', '--agent', 'a', 'extra'], says: /Unexpected argument 'extra'/ },
    { args: ['import'], says: /import needs the FILE/ },
    { args: ['import', 'a.jsonl', 'b.jsonl'], says: /unexpected argument "b\.jsonl"/ },
    { args: ['compact', '--force'], says: /Unknown option '--force'/ },
    { args: ['serve', '--port', '80'], says: /need --http/ },
    { args: ['frobnicate'], says: /unknown command "frobnicate"/ },
  ])('usage: `memlane $args` is one line pointing at --help, exit 2, no database made', { timeout: 10_000 }, async ({ args, says }) => {
    const db = join(tempDir(), 'db');
    const line = oneLine(await runCli(args, { MEMLANE_DB: db }), 2, says);
    expect(line).toMatch(/memlane --help/);
    expect(existsSync(db)).toBe(false);
  });

  it.each(['5x', '0d', '-1d', '', '7 days', '1.5h', '9999999d'])('--ttl %j: one line naming --ttl, exit 2', { timeout: 10_000 }, async (ttl) => {
    const db = join(tempDir(), 'db');
    oneLine(await runCli(['session', 'create', '--agent', 'a', '--ttl', ttl], { MEMLANE_DB: db }), 2, /--ttl/);
    expect(existsSync(db)).toBe(false);
  });

  it('a bad MEMLANE_LOG_LEVEL is named in one line, exit 1, for commands and the server alike', { timeout: 20_000 }, async () => {
    const db = await seeded(1);
    for (const args of [['stats'], ['session', 'create', '--agent', 'a'], []]) {
      oneLine(await runCli(args, { MEMLANE_DB: db, MEMLANE_LOG_LEVEL: 'verbose' }), 1, /MEMLANE_LOG_LEVEL: must be one of debug, info, warn, error/);
    }
    const ok = await runCli(['stats'], { MEMLANE_DB: db, MEMLANE_LOG_LEVEL: 'error' });
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('read-only commands on a database written by another embedder', () => {
  beforeAll(() => assertBuilt());
  afterEach(cleanup);

  for (const [label, env] of [
    ['local at 384 dimensions', { MEMLANE_EMBED_DIM: '384' }],
    ['openai, without even a key', { MEMLANE_EMBEDDER: 'openai' }],
  ] as const) {
    it(`configured as ${label}: stats, session list and export read it; a writing command still refuses`, { timeout: 40_000 }, async () => {
      const db = await seeded(5);
      const stats = await runCli(['stats', '--json'], { MEMLANE_DB: db, ...env });
      expect(stats.code, stats.stderr).toBe(0);
      const parsed = JSON.parse(stats.stdout);
      expect(parsed.embedder).toMatchObject({ provider: 'local', dim: 768 });
      expect(parsed.agents).toEqual([expect.objectContaining({ agent_id: 'a', memories: 5 })]);
      const list = await runCli(['session', 'list', '--json'], { MEMLANE_DB: db, ...env });
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout)).toHaveLength(1);
      const out = join(tempDir(), 'a.jsonl');
      const exported = await runCli(['export', '--agent', 'a', '--vectors', '--out', out], { MEMLANE_DB: db, ...env });
      expect(exported.code, exported.stderr).toBe(0);
      const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(5);
      expect(lines[0].vector).toHaveLength(768);
      // Nothing of the database changed to the configured embedder.
      const again = JSON.parse((await runCli(['stats', '--json'], { MEMLANE_DB: db })).stdout);
      expect(again.embedder).toEqual(parsed.embedder);
      if (env.MEMLANE_EMBEDDER === undefined) oneLine(await runCli(['compact'], { MEMLANE_DB: db, ...env }), 1, /was written by embedder local\/.*memlane reembed/);
    });
  }
});

describe('memlane import of batch_remember lines', () => {
  beforeAll(() => assertBuilt());
  afterEach(cleanup);

  it('lines with only content import with the defaults; a bad line is named and the exit status is 1', { timeout: 30_000 }, async () => {
    const db = tempDir();
    const file = join(tempDir(), 'notes.jsonl');
    writeFileSync(file, `${JSON.stringify({ content: 'The user likes espresso.' })}\n${JSON.stringify({ content: 'Standup is at 09:30.', tags: ['work'] })}\n`);
    const ok = await runCli(['import', file, '--agent', 'a'], { MEMLANE_DB: db });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/2 imported, 0 already present, 0 failed/);
    writeFileSync(file, `${JSON.stringify({ content: 'The user likes espresso.' })}\n${JSON.stringify({ content: 'x', confidence: 2 })}\n`);
    const bad = await runCli(['import', file, '--agent', 'a'], { MEMLANE_DB: db });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^line 2: VALIDATION_ERROR: confidence: .*\(field: confidence\)$/m);
    expect(bad.stderr).toMatch(/0 imported, 1 already present, 1 failed/);
    const out = join(tempDir(), 'a.jsonl');
    expect((await runCli(['export', '--agent', 'a', '--out', out], { MEMLANE_DB: db })).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.content).sort()).toEqual(['Standup is at 09:30.', 'The user likes espresso.']);
    expect(lines.find((l) => l.tags.length === 0)).toMatchObject({ type: 'fact', confidence: 0.8, importance: 0.5, source: 'agent', agent_id: 'a' });
  });
});

describe('--help', () => {
  beforeAll(() => assertBuilt());

  it('lists every environment variable of the README\'s Configuration table', { timeout: 10_000 }, async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    const documented = [...new Set(table.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...l.split('|')[1]!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!)))];
    expect(documented.length).toBeGreaterThanOrEqual(15);
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    const listed = new Set(help.stdout.match(/\b[A-Z][A-Z_]{3,}\b/g));
    expect(documented.filter((v) => !listed.has(v))).toEqual([]);
  });
});
