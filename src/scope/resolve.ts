import { CallError, ErrorCode } from '../errors.js';
import type { Scope, Sessions } from './sessions.js';

/**
 * Where a call's scope may come from, in contract §1's order. A transport
 * fills in what it has: HTTP the scope its bearer header proved; stdio the
 * env token or the open local default.
 */
export interface ScopeSources {
  /**
   * HTTP only: the scope the request's `Authorization: Bearer` token proved,
   * verified by the transport for this very request. Wins over everything
   * else, so a `session_token` argument can neither widen nor switch it.
   */
  bearerScope?: Scope;
  /** stdio only: `MEMLANE_SESSION_TOKEN`. */
  envToken?: string;
  /** stdio only, unless MEMLANE_REQUIRE_TOKEN=1: the open local default's token. */
  defaultToken?: string;
}

export interface CallIdentity {
  /** The tool call's `session_token` argument. */
  sessionToken?: string;
  /** The tool call's `agent_id` argument: must match the token's agent. */
  agentId?: string;
}

/** Resolves a call to exactly one (agent, session) before any item runs. */
export async function resolveScope(sessions: Sessions, sources: ScopeSources, call: CallIdentity): Promise<Scope> {
  const scope = sources.bearerScope ?? (await sessions.verify(tokenOf(sources, call)));
  if (call.agentId !== undefined && call.agentId !== scope.agent_id) {
    throw new CallError(ErrorCode.Unauthorized, `agent_id "${call.agentId}" does not match the session's agent`, 'agent_id');
  }
  return scope;
}

function tokenOf(sources: ScopeSources, call: CallIdentity): string {
  const token = call.sessionToken ?? sources.envToken ?? sources.defaultToken;
  if (token === undefined) {
    throw new CallError(ErrorCode.Unauthorized, 'this server requires a session token: pass `session_token` or set MEMLANE_SESSION_TOKEN');
  }
  return token;
}
