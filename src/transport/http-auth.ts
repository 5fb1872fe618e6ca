import type { IncomingHttpHeaders } from 'node:http';
import { CallError, ErrorCode } from '../errors.js';
import type { Scope, Sessions } from '../scope/sessions.js';
import { HttpRefusal } from './http-reply.js';

/** A request's proven identity: the scope, and the credential that proved it (for the SDK's AuthInfo). */
export interface Authenticated {
  scope: Scope;
  token: string;
}

const BEARER = /^Bearer +([!-~]+) *$/i;
const CREATE_HINT = 'create one with `memlane session create --agent <id>`';

/**
 * The one place where an HTTP request's credentials become a scope (contract
 * §1, source 1). Today that is a bearer session token, checked with
 * `Sessions.verify` on every request, so a session revoked from the command
 * line in another process counts at the next request. An OAuth access token
 * would be resolved here too, and nothing after this function would change.
 */
export async function authenticate(sessions: Sessions, headers: IncomingHttpHeaders): Promise<Authenticated> {
  const header = headers.authorization;
  if (header === undefined || header.trim() === '') {
    throw unauthorized(ErrorCode.Unauthorized, `this server requires an \`Authorization: Bearer <session token>\` header; ${CREATE_HINT}`, false);
  }
  const match = BEARER.exec(header);
  if (!match) throw unauthorized(ErrorCode.Unauthorized, 'the Authorization header must be `Bearer <session token>` (mlt_…)', true);
  const token = match[1]!;
  try {
    return { scope: await sessions.verify(token), token };
  } catch (err) {
    if (err instanceof CallError && (err.code === ErrorCode.Unauthorized || err.code === ErrorCode.SessionExpired)) {
      throw unauthorized(err.code, err.message, true);
    }
    throw err;
  }
}

/** 401 with the RFC 6750 challenge; `error="invalid_token"` only when a token was offered. */
function unauthorized(code: string, message: string, offered: boolean): HttpRefusal {
  const challenge = offered ? `Bearer realm="memlane", error="invalid_token", error_description="${code}"` : 'Bearer realm="memlane"';
  return new HttpRefusal(401, code, message, { 'WWW-Authenticate': challenge });
}
