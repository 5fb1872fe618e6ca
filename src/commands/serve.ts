import type { HttpOptions } from '../transport/http.js';
import { parseOrUsage } from './command.js';
import { UsageError } from './usage.js';

/** `memlane serve [--http [--host 127.0.0.1] [--port 8787] [--public] [--ui]]` (contract §6; --ui: the inspector beside /mcp). */
export function parseServeArgs(argv: string[]): { http: HttpOptions | undefined } {
  const { values } = parseOrUsage({
    args: argv,
    options: {
      http: { type: 'boolean', default: false },
      host: { type: 'string' },
      port: { type: 'string' },
      public: { type: 'boolean', default: false },
      ui: { type: 'boolean', default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  if (!values.http) {
    if (values.host !== undefined || values.port !== undefined || values.public || values.ui) throw new UsageError('--host, --port, --public and --ui need --http');
    return { http: undefined };
  }
  const port = values.port === undefined ? 8787 : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '8787') || port > 65_535) throw new UsageError(`--port: "${values.port}" is not a port number (0–65535; 0 picks a free one)`);
  return { http: { host: values.host ?? '127.0.0.1', port, public: values.public, ...(values.ui && { ui: true }) } };
}
