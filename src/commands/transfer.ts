import { closeSync, createReadStream, createWriteStream, openSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { App } from '../app.js';
import { issuesToError } from '../batch/issues.js';
import type { Result } from '../batch/policy.js';
import { runBatch } from '../batch/runner.js';
import type { Scope } from '../scope/sessions.js';
import { rememberItemSchema, rememberTool } from '../tools/remember.js';
import { toRecord, type StoredMemory } from '../model.js';
import { agentIdSchema, namespaceOf, sessionIdSchema } from '../scope/ids.js';
import { contentHash, embeddingText } from '../store/text.js';
import * as f from '../tools/fields.js';
import { jsonEqual } from '../tools/merge-patch.js';
import { CommandError, defineCommand, parseOrUsage } from './command.js';
import { progressBar } from './progress.js';
import { UsageError } from './usage.js';

/**
 * `memlane export` / `memlane import` (contract §6): JSON Lines, one memory a
 * line with every field of §2, plus `ord` (its write order in its session, so
 * neighbours survive the trip) and, with --vectors, `vector`.
 */
const iso = z.iso.datetime({ offset: true });
export const exportLineSchema = z
  .object({
    id: f.memoryId,
    content: f.content,
    type: f.type,
    title: f.title.nullable(),
    tags: f.tags,
    metadata: f.metadata,
    confidence: f.confidence,
    importance: f.importance,
    source: f.source,
    provenance: f.provenance,
    pinned: f.pinned,
    immutable: f.immutable,
    expires_at: iso.nullable(),
    agent_id: agentIdSchema,
    namespace: z.string(),
    session_id: sessionIdSchema,
    created_at: iso,
    updated_at: iso,
    version: z.number().int().min(1),
    ord: z.number().int().min(1).optional(),
    vector: z.array(z.number()).optional(),
  })
  .strict()
  .refine((m) => m.namespace === namespaceOf(m.agent_id), { message: 'namespace must be "agent:" + agent_id', path: ['namespace'] });

const PAGE = 500;

/** A file descriptor for `file`, or a CommandError saying in one line why it cannot be had. */
function openOrExplain(file: string, flags: 'r' | 'w'): number {
  try {
    return openSync(file, flags);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? (flags === 'w' ? 'its folder does not exist' : 'no such file') : e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new CommandError(`cannot ${flags === 'w' ? 'write' : 'read'} ${file}: ${why}`);
  }
}

export const exportCommand = defineCommand<{ agent: string; out?: string; vectors: boolean }>({
  parse(argv) {
    const { values } = parseOrUsage({
      args: argv,
      options: { agent: { type: 'string' }, out: { type: 'string' }, vectors: { type: 'boolean', default: false } },
      strict: true,
    });
    const agent = agentIdSchema.safeParse(values.agent);
    if (!agent.success) throw new UsageError('--agent <id> is required (1–64 of A-Z a-z 0-9 . _ -)');
    return { agent: agent.data, ...(values.out !== undefined && { out: values.out }), vectors: values.vectors };
  },
  open: { readOnly: true },
  async run(app, args) {
    // Opened before anything is read, so a folder that does not exist is one line, not a stream's unhandled error.
    const out = args.out ? createWriteStream(args.out, { fd: openOrExplain(args.out, 'w') }) : process.stdout;
    let count = 0;
    for await (const page of app.store.scan(namespaceOf(args.agent), PAGE, { withVector: args.vectors })) {
      for (const m of page) {
        const line = { ...toRecord(m), ord: m.ord, ...(args.vectors && m.vector && { vector: Array.from(m.vector) }) };
        if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
        count++;
      }
    }
    if (args.out) await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
    process.stderr.write(`exported ${count} memories of agent "${args.agent}"${args.out ? ` to ${args.out}` : ''}\n`);
    return 0;
  },
});

export const importCommand = defineCommand<{ file: string; agent?: string }>({
  parse(argv) {
    const { values, positionals } = parseOrUsage({ args: argv, options: { agent: { type: 'string' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'import needs the FILE to read' : `import: unexpected argument "${positionals[1]}"`);
    if (values.agent !== undefined && !agentIdSchema.safeParse(values.agent).success) throw new UsageError('--agent must be 1–64 of A-Z a-z 0-9 . _ -');
    return { file: positionals[0]!, ...(values.agent !== undefined && { agent: values.agent }) };
  },
  async run(app, args) {
    closeSync(openOrExplain(args.file, 'r'));
    const result = await importFile(app, args.file, args.agent, (line, reason) => process.stderr.write(`line ${line}: ${reason}\n`));
    process.stderr.write(`${result.imported} imported, ${result.unchanged} already present, ${result.failed} failed\n`);
    return result.failed > 0 ? 1 : 0;
  },
});

export interface ImportResult {
  imported: number;
  unchanged: number;
  failed: number;
}

/**
 * Loads JSON Lines in batches, idempotently; bad lines are reported and skipped.
 * A line is either an exported memory (every field, kept as it was) or a
 * `batch_remember` item (only `content` required): the latter are remembered
 * through batch_remember itself, so they get its defaults, its dedupe and its
 * upsert by `id`, into `agent` (default MEMLANE_AGENT) and one session made
 * for this import.
 */
export async function importFile(app: App, file: string, agent: string | undefined, report: (line: number, reason: string) => void): Promise<ImportResult> {
  const result: ImportResult = { imported: 0, unchanged: 0, failed: 0 };
  const bar = progressBar('import');
  let batch: Array<{ line: number; memory: StoredMemory; ordGiven: boolean }> = [];
  let items: Array<{ line: number; item: unknown }> = [];
  const remembering = new RememberAsImport(app, agent ?? app.config.defaultAgent);
  let lineNo = 0;
  const flush = async () => {
    const written = await writeBatch(app, batch);
    result.imported += written;
    result.unchanged += batch.length - written;
    batch = [];
    bar.update(lineNo, lineNo);
  };
  const flushItems = async () => {
    const done = await remembering.run(items, report);
    result.imported += done.imported;
    result.unchanged += done.unchanged;
    result.failed += done.failed;
    items = [];
    bar.update(lineNo, lineNo);
  };
  try {
    for await (const text of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
      lineNo++;
      if (text.trim() === '') continue;
      const parsed = parseLine(text, app.store.dim, agent);
      if ('item' in parsed) {
        items.push({ line: lineNo, item: parsed.item });
        if (items.length >= app.config.maxBatch) await flushItems();
        continue;
      }
      if ('error' in parsed) {
        result.failed++;
        report(lineNo, parsed.error);
        continue;
      }
      batch.push({ line: lineNo, ...parsed });
      if (batch.length >= PAGE) await flush();
    }
    if (batch.length > 0) await flush();
    if (items.length > 0) await flushItems();
  } finally {
    await remembering.end();
    bar.stop();
  }
  return result;
}

/** Every exported line has both; a line without them is read as a batch_remember item (whose unknown fields are then named). */
const isExportLine = (json: object) => Object.hasOwn(json, 'created_at') && Object.hasOwn(json, 'version');

/**
 * batch_remember items of an import, run through the tool itself in one
 * session of `agent` made on first use (origin `import`) and ended when the
 * import ends, so no live token is left behind.
 */
class RememberAsImport {
  private scope: Scope | undefined;

  constructor(
    private readonly app: App,
    private readonly agent: string,
  ) {}

  async run(items: Array<{ line: number; item: unknown }>, report: (line: number, reason: string) => void): Promise<ImportResult> {
    const { app } = this;
    if (!this.scope) {
      const s = await app.sessions.create(this.agent, { origin: 'import' });
      this.scope = { agent_id: s.agent_id, namespace: namespaceOf(s.agent_id), session_id: s.session_id };
    }
    // Importing twice changes nothing: an item whose id already holds exactly what it says is left alone
    // (batch_remember itself would make it a new version).
    const same = await this.alreadyStored(items.map((i) => i.item));
    const out: ImportResult = { imported: 0, unchanged: same.size, failed: 0 };
    items = items.filter((_, i) => !same.has(i));
    if (items.length === 0) return out;
    const res = await runBatch(rememberTool, { memories: items.map((i) => i.item) }, {
      services: { store: app.store, searcher: app.searcher, embedder: app.embedder },
      sessions: app.sessions,
      sources: { bearerScope: this.scope },
      maxBatch: app.config.maxBatch,
    });
    const results = (res.structuredContent as { results?: Result[] } | undefined)?.results;
    if (!results) {
      // The whole call failed (the database, not a line): every line of it says why.
      const why = res.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');
      for (const { line } of items) report(line, why);
      return { ...out, failed: items.length };
    }
    for (const r of results) {
      const line = items[r.index]!.line;
      if (r.status === 'ok' && r.action === 'deduplicated') out.unchanged++;
      else if (r.status === 'ok') out.imported++;
      else {
        out.failed++;
        const field = r.error?.field?.replace(/^memories\[\d+\]\.?/, '');
        report(line, `${r.error?.code ?? r.status}: ${r.error?.message.replace(/memories\[\d+\]\.?/g, '') ?? r.reason}${field ? ` (field: ${field})` : ''}`);
      }
    }
    return out;
  }

  /** Positions of the items that name an id whose stored memory already equals them (defaults applied). */
  private async alreadyStored(raw: unknown[]): Promise<Set<number>> {
    const parsed = raw.map((r) => rememberItemSchema.safeParse(r));
    const ids = parsed.flatMap((p) => (p.success && p.data.id !== undefined && p.data.ttl_seconds === undefined && !p.data.embedding ? [p.data.id] : []));
    if (ids.length === 0) return new Set();
    const stored = await this.app.store.getMany(namespaceOf(this.agent), ids, Date.now());
    const same = new Set<number>();
    parsed.forEach((p, i) => {
      if (!p.success || p.data.id === undefined || p.data.ttl_seconds !== undefined || p.data.embedding) return;
      const m = stored.get(p.data.id);
      const d = p.data;
      const expires = d.expires_at === undefined || d.expires_at === null ? null : Date.parse(d.expires_at);
      if (
        m && m.content === d.content && m.type === d.type && m.title === (d.title ?? null) && jsonEqual(m.tags, d.tags) && jsonEqual(m.metadata, d.metadata) &&
        m.confidence === d.confidence && m.importance === d.importance && m.source === d.source && m.provenance === d.provenance &&
        m.pinned === d.pinned && m.immutable === d.immutable && m.expires_at === expires
      ) same.add(i);
    });
    return same;
  }

  async end(): Promise<void> {
    if (this.scope) await this.app.sessions.revoke(this.scope.session_id);
  }
}

function parseLine(text: string, dim: number, agent: string | undefined): { memory: StoredMemory; ordGiven: boolean } | { item: unknown } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { error: `not JSON (${(err as Error).message})` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { error: 'a line must be a JSON object' };
  if (!isExportLine(json)) return { item: json };
  const parsed = exportLineSchema.safeParse(json);
  if (!parsed.success) return { error: issuesToError(parsed.error.issues, []).message };
  const l = parsed.data;
  if (l.vector && (l.vector.length !== dim || !l.vector.every(Number.isFinite))) {
    return { error: `vector has ${l.vector.length} numbers; this database's vectors have ${dim} (omit "vector" to embed again)` };
  }
  const agentId = agent ?? l.agent_id;
  const memory: StoredMemory = {
    id: l.id,
    namespace: namespaceOf(agentId),
    agent_id: agentId,
    session_id: l.session_id,
    ord: l.ord ?? 0,
    content: l.content,
    content_hash: contentHash(l.content),
    type: l.type,
    title: l.title,
    tags: l.tags,
    metadata: l.metadata,
    confidence: l.confidence,
    importance: l.importance,
    source: l.source,
    provenance: l.provenance,
    pinned: l.pinned,
    immutable: l.immutable,
    expires_at: l.expires_at === null ? null : Date.parse(l.expires_at),
    created_at: Date.parse(l.created_at),
    updated_at: Date.parse(l.updated_at),
    version: l.version,
    ...(l.vector && { vector: Float32Array.from(l.vector) }),
  };
  return { memory, ordGiven: l.ord !== undefined };
}

/** Upserts one batch under the write lock; rows already identical are left alone. Returns how many were written. */
async function writeBatch(app: App, batch: Array<{ memory: StoredMemory; ordGiven: boolean }>): Promise<number> {
  const { store, embedder } = app;
  // Lines that do not carry a vector are embedded outside the lock.
  const missing = batch.filter((b) => !b.memory.vector).map((b) => embeddingText(b.memory));
  const embedded = new Map<string, Float32Array>();
  if (missing.length > 0) {
    const unique = [...new Set(missing)];
    (await embedder.embed(unique)).forEach((v, i) => embedded.set(unique[i]!, v));
  }
  return store.exclusive(async () => {
    const writes: StoredMemory[] = [];
    const byNamespace = new Map<string, typeof batch>();
    for (const b of batch) byNamespace.set(b.memory.namespace, [...(byNamespace.get(b.memory.namespace) ?? []), b]);
    for (const [namespace, items] of byNamespace) {
      const existing = await store.getMany(namespace, items.map((b) => b.memory.id), Date.now(), { withVector: true, includeExpired: true });
      const nextOrd = new Map<string, number>();
      for (const { memory, ordGiven } of items) {
        const current = existing.get(memory.id);
        if (!ordGiven) {
          if (current) memory.ord = current.ord;
          else {
            const ord = nextOrd.get(memory.session_id) ?? (await store.nextOrd(namespace, memory.session_id));
            memory.ord = ord;
            nextOrd.set(memory.session_id, ord + 1);
          }
        }
        const text = embeddingText(memory);
        memory.vector ??= current && embeddingText(current) === text ? current.vector : embedded.get(text);
        if (current && sameMemory(current, memory)) continue;
        writes.push(memory);
      }
    }
    await store.upsert(writes);
    return writes.length;
  }, { embeds: true });
}

function sameMemory(a: StoredMemory, b: StoredMemory): boolean {
  const { vector: va, metadata: ma, tags: ta, ...ra } = a;
  const { vector: vb, metadata: mb, tags: tb, ...rb } = b;
  return jsonEqual(ra, rb) && jsonEqual(ma, mb) && jsonEqual(ta, tb) && !!va && !!vb && va.length === vb.length && va.every((x, i) => x === vb[i]);
}
