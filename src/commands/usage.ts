/** A mistake on the command line: one line and a pointer to --help, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `memlane — long-term memory for AI agents (an MCP server on embedded LanceDB)

usage:
  memlane                                   MCP server on stdio (what MCP clients start)
  memlane serve --http [--host 127.0.0.1] [--port 8787] [--public]
                                            MCP Streamable HTTP at /mcp; every request needs
                                            Authorization: Bearer <session token>
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
  memlane --help | --version

stats, export and session list only read: they need an existing database (MEMLANE_DB), open
one written by any embedder, and never create one.

configuration (environment; README.md "Configuration" says more):
  MEMLANE_DB                        database directory (~/.local/share/memlane)
  MEMLANE_EMBEDDER                  local (default) | openai
  OPENAI_API_KEY, OPENAI_BASE_URL   for openai; any OpenAI-compatible server
  MEMLANE_EMBED_MODEL, MEMLANE_EMBED_DIM
  MEMLANE_AGENT                     stdio's open local agent (default)
  MEMLANE_SESSION_TOKEN             stdio's session token
  MEMLANE_REQUIRE_TOKEN             1: no open local default
  MEMLANE_MAX_BATCH                 items per call (100, at most 500)
  MEMLANE_MAINTENANCE_INTERVAL_MS   background maintenance (60000; 0: off)
  MEMLANE_LOG_LEVEL                 debug | info (default) | warn | error, on stderr
  MEMLANE_SLOW_CALL_MS              slower calls warn the client (2000)
  MEMLANE_ALLOWED_ORIGINS           HTTP: origins a browser may call from
  MEMLANE_MAX_BODY                  HTTP: largest request body (10MiB)
  MEMLANE_RATE_LIMIT                HTTP: requests per token, e.g. 600/min
`;
