/** A mistake on the command line: printed with the usage, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `memlane — long-term memory for AI agents (an MCP server on embedded LanceDB)

usage:
  memlane                                   MCP server on stdio (what MCP clients start)
  memlane serve --http [--host 127.0.0.1] [--port 8787] [--public] [--ui]
                                            MCP Streamable HTTP at /mcp; every request needs
                                            Authorization: Bearer <session token>;
                                            --ui: the web inspector beside it, at /ui/
  memlane ui [--port 8788] [--host 127.0.0.1]
                                            the web inspector; prints a one-time login link
  memlane session create --agent <id> [--ttl 7d] [--json]
                                            make a session; prints its token once
  memlane session list [--agent <id>] [--json]
  memlane session revoke <session_id>       counts in every running server at its next call
  memlane stats [--json]                    memories, sessions, versions, fragments, indexes
  memlane compact [--json]                  remove expired memories, compact, prune old versions,
                                            update indexes now (deleted content leaves the disk)
  memlane export --agent <id> [--out FILE] [--vectors]
                                            JSON Lines, one memory per line
  memlane import FILE [--agent <id>]        upsert by id (importing twice changes nothing)
  memlane reembed                           re-embed every memory with the configured embedder
                                            (resumable; running servers carry on)
  memlane model fetch [--json]              download the transformers model now (progress on stderr)
                                            and check that it loads
  memlane model info [--json]               the transformers model: name, dimension, files, where they are
  memlane doctor [--json]                   check the store MEMLANE_DB names: reach, list, write,
                                            delete, conditional writes (exit 1 if not safe to write)
  memlane --help | --version

configuration (environment): MEMLANE_DB, MEMLANE_EMBEDDER (local|transformers|openai),
OPENAI_API_KEY, OPENAI_BASE_URL, MEMLANE_EMBED_MODEL, MEMLANE_EMBED_DIM, MEMLANE_AGENT,
MEMLANE_SESSION_TOKEN, MEMLANE_REQUIRE_TOKEN, MEMLANE_MAX_BATCH; for transformers:
MEMLANE_MODEL_DIR, MEMLANE_EMBED_DTYPE, MEMLANE_EMBED_THREADS, MEMLANE_EMBED_PRELOAD, HF_ENDPOINT,
HF_TOKEN, HTTPS_PROXY; object storage: MEMLANE_STORAGE_OPTIONS, MEMLANE_READ_ONLY,
MEMLANE_SINGLE_WRITER, MEMLANE_LEASE_TTL_MS, MEMLANE_READ_INTERVAL_MS; for HTTP:
MEMLANE_ALLOWED_ORIGINS, MEMLANE_MAX_BODY, MEMLANE_RATE_LIMIT. See README.md.
`;
