import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Scope } from './sessions.js';

/**
 * How a scope proved by the HTTP transport reaches the tool handler: as the
 * SDK's `AuthInfo` (`req.auth` → `extra.authInfo`), the one channel the SDK
 * carries from an HTTP request to the handler it causes.
 */
export function authInfoFor(token: string, scope: Scope): AuthInfo {
  return { token, clientId: scope.session_id, scopes: [], extra: { scope } };
}

/** The scope the transport proved for this request, if it did (HTTP); undefined on stdio. */
export function scopeOfAuthInfo(info: AuthInfo | undefined): Scope | undefined {
  const scope = info?.extra?.scope as Scope | undefined;
  return scope && typeof scope.namespace === 'string' ? scope : undefined;
}
