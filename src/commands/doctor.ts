import * as lancedb from '@lancedb/lancedb';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { checkConditionalWrites, lanceOptions, MEMLANE_DIR, openRemote, type Remote } from '../store/backends/index.js';
import { keyOf, parseLocation, type StoreLocation } from '../store/backends/location.js';
import { parseStorageOptions, type StorageSettings } from '../store/backends/options.js';
import { prepareLocalDir } from '../store/local-dir.js';
import { META } from '../store/schema.js';
import { parseOrUsage } from './command.js';

/**
 * `memlane doctor [--json]`: checks the store MEMLANE_DB names before use.
 * It reaches it, lists, writes, reads back and deletes a scratch object, and
 * checks the conditional writes the writer lease (and LanceDB's commits)
 * depend on: a second `If-None-Match: *` create of one key must be refused
 * (412), one of several simultaneous creates must win, an `If-Match` on a stale
 * ETag must be refused. Opens nothing of memlane's and writes nothing but
 * scratch keys under `<prefix>/_memlane/`, removed again. Exit 0 when the
 * store may be written by several memlane processes, else 1.
 */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DoctorReport {
  db: string;
  kind: string;
  /** Every check passed. */
  ok: boolean;
  /** Several writer processes are safe here (the lease and LanceDB's commits can rely on the store). */
  writable: boolean;
  checks: Check[];
  advice?: string;
}

export function parseDoctorArgs(argv: string[]): { json: boolean } {
  const { values } = parseOrUsage({ args: argv, options: { json: { type: 'boolean', default: false } }, strict: true });
  return { json: values.json };
}

export async function runDoctor(config: Config, args: { json: boolean }): Promise<number> {
  const report = await diagnose(config);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const lines = [`database  ${report.db} (${report.kind})`, ...report.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(20)} ${c.detail}`)];
    lines.push(report.writable ? 'writable by several memlane processes' : 'NOT safe for several writers');
    if (report.advice) lines.push(report.advice);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return report.ok ? 0 : 1;
}

export async function diagnose(config: Config): Promise<DoctorReport> {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  let loc: StoreLocation;
  let settings: StorageSettings;
  try {
    loc = parseLocation(config.dbUri);
    settings = parseStorageOptions(config.store.storageOptions, process.env);
  } catch (err) {
    add('configuration', false, message(err));
    return { db: config.dbUri, kind: 'unknown', ok: false, writable: false, checks };
  }
  const report = (advice?: string): DoctorReport => {
    const ok = checks.every((c) => c.ok);
    return { db: config.dbUri, kind: loc.kind, ok, writable: ok && loc.kind !== 'db', checks, ...(advice !== undefined && { advice }) };
  };

  if (loc.kind === 'local') {
    try {
      prepareLocalDir(loc.uri);
      add('directory', true, `${loc.uri} is a writable directory (the writer lock is a lock directory in it)`);
    } catch (err) {
      add('directory', false, message(err));
      return report();
    }
    await checkLance(loc, settings, add);
    return report();
  }
  if (loc.kind === 'db') {
    try {
      lanceOptions(loc, settings, 0);
      add('credentials', true, 'LANCEDB_API_KEY is set');
    } catch (err) {
      add('credentials', false, message(err));
      return report();
    }
    await checkLance(loc, settings, add);
    return report('db://: memlane cannot build a writer lease on LanceDB Cloud (no conditional object writes through its API): run one writer per database.');
  }

  let remote: Remote | undefined;
  try {
    remote = await openRemote(loc, settings);
    add('credentials', true, 'found');
  } catch (err) {
    add('credentials', false, message(err));
    return report();
  }
  try {
    await checkObjects(remote!, loc, add);
    if (checks.every((c) => c.ok)) await checkConditional(remote!, loc, add);
    if (checks.every((c) => c.ok)) await checkLance(loc, settings, add);
  } finally {
    remote!.close();
  }
  const failedConditional = checks.some((c) => !c.ok && c.name.startsWith('conditional'));
  return report(
    failedConditional
      ? 'This store ignores conditional writes: two writers would silently lose about half their rows. Use s3+ddb://bucket/prefix?ddbTableName=TABLE, or a single writer (MEMLANE_SINGLE_WRITER=1) with read replicas (MEMLANE_READ_ONLY=1).'
      : undefined,
  );
}

async function checkObjects(remote: Remote, loc: StoreLocation, add: (n: string, ok: boolean, d: string) => void): Promise<void> {
  const objects = remote.objects;
  const dir = `${keyOf(loc, MEMLANE_DIR)}/`;
  const scratch = keyOf(loc, `${MEMLANE_DIR}/doctor-${randomBytes(6).toString('hex')}`);
  const body = `memlane doctor ${new Date().toISOString()}`;
  try {
    const keys = await objects.list(dir);
    add('reach and list', true, `listed ${objects.describe(dir)} (${keys.length} objects)`);
  } catch (err) {
    add('reach and list', false, message(err));
    return;
  }
  try {
    await objects.put(scratch, body);
    const back = await objects.get(scratch);
    const same = back !== undefined && Buffer.from(back).toString('utf8') === body;
    add('write and read', same, same ? `wrote and read back ${objects.describe(scratch)}` : `${objects.describe(scratch)} read back differently`);
  } catch (err) {
    add('write and read', false, message(err));
    return;
  }
  try {
    await objects.delete(scratch);
    const gone = (await objects.get(scratch)) === undefined;
    add('delete', gone, gone ? 'deleted it again' : `${objects.describe(scratch)} is still there after DELETE`);
  } catch (err) {
    add('delete', false, message(err));
  }
}

async function checkConditional(remote: Remote, loc: StoreLocation, add: (n: string, ok: boolean, d: string) => void): Promise<void> {
  const where = remote.dynamo ? `DynamoDB table ${loc.ddbTable}` : 'the store';
  if (remote.dynamo) {
    try {
      const problem = await remote.dynamo.checkTable();
      add('dynamodb table', problem === undefined, problem ?? `${loc.ddbTable}: hash key base_uri, range key version`);
      if (problem !== undefined) return;
    } catch (err) {
      add('dynamodb table', false, message(err));
      return;
    }
  }
  try {
    const c = await checkConditionalWrites(remote.leases, loc, randomBytes(6).toString('hex'));
    const createIf = remote.dynamo ? 'conditional put (attribute_not_exists)' : 'If-None-Match: * create';
    add('conditional create', c.refusesSecondCreate, c.refusesSecondCreate ? `${where} refused a second ${createIf} of the same key` : `${where} accepted a second ${createIf} of the same key`);
    add('conditional race', c.oneWinnerOfRace, `${c.winners} of 8 simultaneous conditional creates of one key won${c.oneWinnerOfRace ? '' : ' (must be 1)'}`);
    const replaceIf = remote.dynamo ? 'conditional put on a stale tag' : 'If-Match write on a stale ETag';
    add('conditional replace', c.refusesStaleReplace, c.refusesStaleReplace ? `${where} refused a ${replaceIf}` : `${where} accepted a ${replaceIf}`);
    if (remote.dynamo) {
      // Informational: with s3+ddb, LanceDB commits through DynamoDB, so the S3 store need not honour If-None-Match.
      const s3 = await checkConditionalWrites(remote.objects, loc, randomBytes(6).toString('hex')).catch(() => undefined);
      const honours = s3 !== undefined && s3.refusesSecondCreate && s3.oneWinnerOfRace;
      add('s3 conditional (info)', true, honours ? 'the S3 store honours If-None-Match too' : 'the S3 store ignores If-None-Match: not needed with s3+ddb (commits and the lease go through DynamoDB)');
    }
  } catch (err) {
    add('conditional create', false, message(err));
  }
}

async function checkLance(loc: StoreLocation, settings: StorageSettings, add: (n: string, ok: boolean, d: string) => void): Promise<void> {
  let conn: lancedb.Connection | undefined;
  try {
    conn = await lancedb.connect(loc.uri, lanceOptions(loc, settings, 0));
    const names = await conn.tableNames();
    const memlane = names.includes(META);
    add('lancedb', true, memlane ? `opened; a memlane database with ${names.length} tables` : `opened; no memlane database yet (${names.length} tables; the first writer creates it)`);
  } catch (err) {
    add('lancedb', false, message(err));
  } finally {
    conn?.close();
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 400);
