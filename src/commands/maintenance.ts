import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../app.js';
import { isLocalUri } from '../store/db.js';
import { defineCommand, parseOrUsage } from './command.js';

/** `memlane compact`: compaction, version cleanup and index updates, now. */
export const compactCommand = defineCommand<{ json: boolean }>({
  parse(argv) {
    const { values } = parseOrUsage({ args: argv, options: { json: { type: 'boolean', default: false } }, strict: true });
    return { json: values.json };
  },
  async run(app, args) {
    const started = performance.now();
    const purged = await app.store.purgeExpired(Date.now());
    const reports = await app.maintainer.compactAll();
    const ms = Math.round(performance.now() - started);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ expired_removed: purged, tables: reports, ms })}\n`);
    } else {
      for (const r of reports) {
        process.stdout.write(
          `${r.table}: ${r.fragmentsRemoved} fragments compacted into ${r.fragmentsAdded}, ${r.versionsRemoved} old versions and ${r.bytesRemoved} bytes removed\n`,
        );
      }
      process.stdout.write(`${purged} expired memories removed; done in ${ms} ms\n`);
    }
    return 0;
  },
});

/** `memlane stats [--json]` (contract §6). */
export const statsCommand = defineCommand<{ json: boolean }>({
  parse(argv) {
    const { values } = parseOrUsage({ args: argv, options: { json: { type: 'boolean', default: false } }, strict: true });
    return { json: values.json };
  },
  open: { readOnly: true },
  async run(app, args) {
    const stats = await collectStats(app);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(stats)}\n`);
      return 0;
    }
    const e = stats.embedder;
    const lines = [
      `database   ${stats.db}`,
      `embedder   ${e.provider}/${e.model} (${e.dim} dimensions)`,
      `on disk    ${stats.bytes_on_disk} bytes; ${stats.versions} versions, ${stats.fragments} fragments`,
      '',
      'agent                memories  sessions',
      ...stats.agents.map((a) => `${a.agent_id.padEnd(20)} ${String(a.memories).padStart(8)}  ${String(a.sessions).padStart(8)}`),
      '',
      'table      rows      versions  fragments (small)',
      ...stats.tables.map((t) => `${t.name.padEnd(10)} ${String(t.rows).padEnd(9)} ${String(t.versions).padEnd(9)} ${t.fragments} (${t.small_fragments})`),
      '',
      'index                      type       indexed   unindexed',
      ...stats.indexes.map((i) => `${`${i.table}.${i.name}`.padEnd(26)} ${i.type.padEnd(10)} ${String(i.indexed_rows).padEnd(9)} ${i.unindexed_rows}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
});

export async function collectStats(app: App) {
  const now = Date.now();
  const agents = new Map<string, { memories: number; sessions: number }>();
  const entry = (id: string) => agents.get(id) ?? agents.set(id, { memories: 0, sessions: 0 }).get(id)!;
  const memoryTables = await app.db.memoryTables();
  for (const table of memoryTables) {
    for (const row of await table.query().select(['agent_id', 'expires_at']).toArray()) {
      const expires = row.expires_at === null ? null : Number(row.expires_at);
      if (expires === null || expires > now) entry(String(row.agent_id)).memories++;
    }
  }
  for (const [agent, count] of await app.sessions.countByAgent()) entry(agent).sessions = count;

  const tables = [];
  const indexes = [];
  for (const table of [...memoryTables, app.db.sessions, app.db.meta]) {
    const s = await table.stats();
    tables.push({
      name: app.db.nameOf(table),
      rows: s.numRows,
      bytes: s.totalBytes,
      versions: (await table.listVersions()).length,
      fragments: s.fragmentStats.numFragments,
      small_fragments: s.fragmentStats.numSmallFragments,
    });
    for (const index of await table.listIndices()) {
      const is = await table.indexStats(index.name);
      indexes.push({
        table: app.db.nameOf(table),
        name: index.name,
        type: index.indexType,
        columns: index.columns,
        indexed_rows: is?.numIndexedRows ?? 0,
        unindexed_rows: is?.numUnindexedRows ?? 0,
      });
    }
  }
  return {
    db: app.db.uri,
    embedder: { provider: app.db.embedder.provider, model: app.db.embedder.model, dim: app.db.embedder.dim },
    agents: [...agents].sort(([a], [b]) => a.localeCompare(b)).map(([agent_id, c]) => ({ agent_id, namespace: `agent:${agent_id}`, ...c })),
    bytes_on_disk: isLocalUri(app.db.uri) ? directorySize(app.db.uri) : tables.reduce((n, t) => n + t.bytes, 0),
    versions: tables.reduce((n, t) => n + t.versions, 0),
    fragments: tables.reduce((n, t) => n + t.fragments, 0),
    tables,
    indexes,
  };
}

function directorySize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
