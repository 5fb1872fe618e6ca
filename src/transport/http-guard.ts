import type { IncomingMessage } from 'node:http';
import { HttpRefusal } from './http-reply.js';

/** Names that always mean this machine. A Host header naming anything else is how DNS rebinding arrives. */
export function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface GuardOptions {
  /** The server is bound to loopback: every Host header must name loopback. */
  loopbackBind: boolean;
  /** Exact origins allowed (MEMLANE_ALLOWED_ORIGINS); undefined: loopback origins only. */
  allowedOrigins?: readonly string[];
}

/**
 * DNS-rebinding and cross-site checks, before anything else looks at the
 * request. Clients that are not browsers send no Origin and pass; a browser
 * page may only call from an allowed origin.
 */
export function guardRequest(req: IncomingMessage, opts: GuardOptions): HttpRefusal | undefined {
  if (opts.loopbackBind) {
    const host = hostnameOf(req.headers.host);
    if (host === undefined || !isLoopbackName(host)) {
      return new HttpRefusal(403, 'FORBIDDEN', `Host "${clip(req.headers.host ?? '')}" is not a loopback name; this server listens on loopback only`);
    }
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, opts)) {
    return new HttpRefusal(403, 'FORBIDDEN', `Origin "${clip(origin)}" is not allowed; set MEMLANE_ALLOWED_ORIGINS to allow it`);
  }
  return undefined;
}

export function originAllowed(origin: string, opts: GuardOptions): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin === 'null') return false;
  if (opts.allowedOrigins) return opts.allowedOrigins.includes(url.origin);
  return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackName(url.hostname);
}

/** CORS headers for an allowed browser origin, so a page at that origin can call /mcp with its bearer token. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID',
    'Access-Control-Expose-Headers': 'Mcp-Session-Id, WWW-Authenticate, Retry-After',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  };
}

function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
}

/** Header values echoed in an error are cut short: an error body is no place for an attacker's kilobytes. */
const clip = (s: string) => (s.length > 100 ? `${s.slice(0, 100)}…` : s);
