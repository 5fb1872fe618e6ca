import { createHash } from 'node:crypto';
import { arrow } from './arrow.js';

const { Bool, Field, FixedSizeList, Float32, Float64, Int32, List, Schema, TimestampMillisecond, Utf8 } = arrow;
type Schema = import('apache-arrow').Schema;

/**
 * The on-disk shape. LanceDB cannot infer timestamps and silently pads or
 * truncates vectors of the wrong length, so every table gets an explicit schema
 * and the vector length is checked before any write (see `MemoryStore`).
 */
export const SESSIONS = 'sessions';
export const META = 'meta';

/** Bumped when the tables change shape; a newer database refuses an older server. */
export const SCHEMA_VERSION = 3;

/** `memories__…` for generation 0, `memories<g>__…` after `reembed` made generation g. */
export const memoriesTablePrefix = (generation: number): string => `memories${generation === 0 ? '' : generation}__`;

/**
 * One memories table per agent. The name keeps the agent id readable but
 * lower-cased, plus a hash of the exact id: agent ids are case-sensitive, and
 * on macOS and Windows file systems are not ("Bob" and "bob" must not share).
 */
export function memoriesTableName(agentId: string, generation: number): string {
  const hash = createHash('sha256').update(agentId).digest('hex').slice(0, 10);
  return `${memoriesTablePrefix(generation)}${agentId.toLowerCase()}-${hash}`;
}

const str = (name: string, nullable = false) => new Field(name, new Utf8(), nullable);
const ts = (name: string, nullable = false) => new Field(name, new TimestampMillisecond(), nullable);

export function memoriesSchema(dim: number): Schema {
  return new Schema([
    // `pk` = namespace + "/" + id: client ids are only unique inside a namespace,
    // and neither part can contain "/", so the pair is one unambiguous key.
    str('pk'),
    str('id'),
    str('namespace'),
    str('agent_id'),
    str('session_id'),
    // Write order inside the session (1, 2, 3 …): neighbours for context and ranking.
    new Field('ord', new Int32(), false),
    str('content'),
    // SHA-256 of the normalised content: dedupe is a lookup in the replica's hash map (in memory,
    // store/replica), never a scan of the table.
    str('content_hash'),
    // What the full-text index sees: title, content and short metadata strings.
    str('search_text'),
    str('type'),
    str('title', true),
    new Field('tags', new List(new Field('item', new Utf8(), true)), false),
    str('metadata'),
    new Field('confidence', new Float64(), false),
    new Field('importance', new Float64(), false),
    str('source'),
    str('provenance'),
    new Field('pinned', new Bool(), false),
    new Field('immutable', new Bool(), false),
    ts('expires_at', true),
    ts('created_at'),
    ts('updated_at'),
    new Field('version', new Int32(), false),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
    // Write sequence: every commit's rows get one more than the table's highest, under the
    // write lock, so "rows with seq above n" is everything written since a reader saw n
    // (what lets a process catch up with another's writes without re-reading the table).
    new Field('seq', new Float64(), false),
  ]);
}

export const sessionsSchema = new Schema([
  str('session_id'),
  str('agent_id'),
  // SHA-256 hex of the token; the token itself is never stored.
  str('token_hash'),
  ts('created_at'),
  ts('expires_at'),
  ts('revoked_at', true),
  // `cli`, `stdio-default`, `import` …: where the session came from, for `session list`.
  str('origin'),
]);

/** One row per key: which embedder wrote the vectors, and the schema version. */
export const metaSchema = new Schema([str('key'), str('value')]);

/** Columns a read returns; the vector only when a caller asks for it. */
export const recordColumns = [
  'id',
  'namespace',
  'agent_id',
  'session_id',
  'ord',
  'content',
  'content_hash',
  'type',
  'title',
  'tags',
  'metadata',
  'confidence',
  'importance',
  'source',
  'provenance',
  'pinned',
  'immutable',
  'expires_at',
  'created_at',
  'updated_at',
  'version',
] as const;
