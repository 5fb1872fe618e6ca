import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, openApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Embedder } from '../../src/embed/embedder.js';
import type { ScopeSources } from '../../src/scope/resolve.js';
import type { MaintenanceKnobsForTests } from '../../src/store/maintenance.js';
import type { WallRemovedForTests } from '../../src/store/memories.js';
import { createServer } from '../../src/server.js';

export function tempDir(prefix = 'memlane-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Harness {
  dir: string;
  app: App;
  client: Client;
  /** The open default session's token (agent `default` unless told otherwise). */
  defaultToken: string | undefined;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** Calls a tool and returns its structuredContent, failing if the call itself failed. */
  ok(name: string, args: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  embedder?: Embedder;
  /** Use an existing database directory (default: a fresh temp dir). */
  dir?: string;
  /** Skip the open default session (like MEMLANE_REQUIRE_TOKEN=1). */
  requireToken?: boolean;
  agent?: string;
  /** Take one of the two walls between agents away (test/helpers/walls.ts). */
  removeWall?: WallRemovedForTests;
  /** Thresholds and hooks for the app's own maintainer (which never runs on a timer here). */
  maintenance?: MaintenanceKnobsForTests;
}

/** A real memlane (real LanceDB in a temp dir) behind a real MCP client over InMemoryTransport. */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = opts.dir ?? tempDir();
  const config: Config = loadConfig({ MEMLANE_DB: dir, MEMLANE_MAINTENANCE_INTERVAL_MS: '0', ...(opts.agent && { MEMLANE_AGENT: opts.agent }), ...opts.env });
  const app = await openApp(config, { ...(opts.embedder && { embedder: opts.embedder }), maintenance: false, ...(opts.removeWall && { testOnlyRemoveWall: opts.removeWall }), ...(opts.maintenance && { testOnlyMaintenance: opts.maintenance }) });
  const sources: ScopeSources = {};
  let defaultToken: string | undefined;
  if (!opts.requireToken) {
    defaultToken = (await app.sessions.create(config.defaultAgent, { origin: 'stdio-default' })).token;
    sources.defaultToken = defaultToken;
  }
  const server = createServer(app, sources);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'memlane-test', version: '0.0.0' });
  await client.connect(clientSide);
  // Cache output schemas so the client validates every structuredContent against them.
  await client.listTools();

  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    dir,
    app,
    client,
    defaultToken,
    call,
    async ok(name, args) {
      const res = await call(name, args);
      if (res.isError) throw new Error(`call failed: ${JSON.stringify(res.content)}`);
      return res.structuredContent;
    },
    async close() {
      await client.close();
      await server.close();
      await app.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The text of a call's first content block. */
export const textOf = (res: CallToolResult): string => (res.content[0] as { text: string }).text;
