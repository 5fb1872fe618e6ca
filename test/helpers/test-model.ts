import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The real all-MiniLM-L6-v2 the tests embed with: MEMLANE_TEST_MODEL_DIR (set
 * by .ci/run from `npm run model:test`), or the folder that script installs
 * (outside the repository) and prints. Asynchronous on purpose: a test that
 * serves something in-process must never block its event loop on a child.
 */
export async function testModelDir(): Promise<string> {
  const given = process.env.MEMLANE_TEST_MODEL_DIR;
  if (given) return given;
  const { stdout } = await promisify(execFile)('python3', [join(ROOT, 'scripts', 'test-model.py')], { encoding: 'utf8' });
  const dir = stdout.trim();
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new Error(`npm run model:test printed ${JSON.stringify(dir)}, which holds no model`);
  process.env.MEMLANE_TEST_MODEL_DIR = dir;
  return dir;
}
