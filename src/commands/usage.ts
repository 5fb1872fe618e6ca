/** A mistake on the command line: one line and a pointer to --help, exit status 2. */
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

stats, export and session list only read: they need an existing database (MEMLANE_DB), open
one written by any embedder, and never create one.

configuration (environment; README.md "Configuration" says more):
  MEMLANE_DB                        database directory (~/.local/share/memlane) or s3://, s3+ddb://, gs://, az://, db://
  MEMLANE_EMBEDDER                  local (default) | transformers | openai
  OPENAI_API_KEY, OPENAI_BASE_URL   for openai; any OpenAI-compatible server
  MEMLANE_EMBED_MODEL, MEMLANE_EMBED_DIM
  MEMLANE_MODEL_DIR                 transformers: a local model folder (nothing fetched)
  MEMLANE_EMBED_DTYPE, MEMLANE_EMBED_THREADS, MEMLANE_EMBED_PRELOAD
  HF_ENDPOINT, HF_TOKEN             transformers: where the model is downloaded from
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY  transformers: the proxy downloads go through
  MEMLANE_AGENT                     stdio's open local agent (default)
  MEMLANE_SESSION_TOKEN             stdio's session token
  MEMLANE_REQUIRE_TOKEN             1: no open local default
  MEMLANE_MAX_BATCH                 items per call (100, at most 500)
  MEMLANE_MAINTENANCE_INTERVAL_MS   background maintenance (60000; 0: off)
  MEMLANE_LOG_LEVEL                 debug | info (default) | warn | error, on stderr
  MEMLANE_SLOW_CALL_MS              slower calls warn the client (2000)
  MEMLANE_MALLOC_TRIM               Linux: return freed memory to the OS (1; 0: off)
  MEMLANE_STORAGE_OPTIONS           object storage: JSON options for LanceDB
  MEMLANE_READ_ONLY                 1: a read replica (never writes)
  MEMLANE_SINGLE_WRITER             1: write to a store without conditional writes
  MEMLANE_LEASE_TTL_MS              object storage: writer lease (20000)
  MEMLANE_READ_INTERVAL_MS          read replica: how stale a read may be (1000)
  MEMLANE_ALLOWED_ORIGINS           HTTP: origins a browser may call from
  MEMLANE_MAX_BODY                  HTTP: largest request body (10MiB)
  MEMLANE_RATE_LIMIT                HTTP: requests per token, e.g. 600/min
`;
