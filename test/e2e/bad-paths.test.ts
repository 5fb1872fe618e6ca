/**
 * A MEMLANE_DB that cannot be a database (issue 8): under /proc (where Node's
 * recursive mkdir used to spin at full CPU, deaf to SIGTERM), a file, a path
 * through a file, a directory without write permission. Every command and the
 * server must fail at once with one line naming the path and the problem, and
 * exit 1: no stack trace, no hang.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, runCli, tempDir } from './_spawn.js';

const cases: Array<[string, () => string, RegExp]> = [
  ['a path under /proc', () => '/proc/nope/memlane', /cannot create the database directory \/proc\/nope\/memlane: no such file or directory \(ENOENT\)/],
  ['a file', () => { const f = join(tempDir(), 'a-file'); writeFileSync(f, 'x'); return f; }, /the database path .*a-file is a file, not a directory/],
  ['a path through a file', () => { const f = join(tempDir(), 'a-file'); writeFileSync(f, 'x'); return join(f, 'db'); }, /a-file is a file, not a directory/],
];
if (process.getuid?.() !== 0) {
  // root may write anywhere; elsewhere a read-only directory must be refused cleanly.
  cases.push(['a directory without write permission', () => { const d = join(tempDir(), 'ro'); mkdirSync(d); chmodSync(d, 0o500); return join(d, 'db'); }, /cannot create the database directory .*permission denied/]);
}

describe('a MEMLANE_DB that cannot be a database', () => {
  beforeAll(() => assertBuilt());
  afterEach(cleanup);

  for (const [label, path, message] of cases) {
    for (const args of [[], ['compact'], ['session', 'create', '--agent', 'a']]) {
      it(`${label}: \`memlane ${args.join(' ')}\` exits 1 with one line`, async () => {
        // The timeout only turns a hang into a failure (a killed child has no exit code 1).
        const run = await runCli(args, { MEMLANE_DB: path() }, 20_000);
        expect(run.signal, `killed: it hung. stderr: ${run.stderr}`).toBeNull();
        expect(run.code).toBe(1);
        expect(run.stdout).toBe('');
        const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
        expect(lines, run.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(/^memlane: /);
        expect(lines[0]).toMatch(message);
        expect(run.stderr).not.toMatch(/\n\s+at /);
      });
    }
  }
});
