import { parseArgs } from 'node:util';
import type { App } from '../app.js';
import { agentIdSchema, sessionIdSchema } from '../scope/ids.js';
import { parseTtl } from '../scope/ttl.js';
import { UsageError } from './usage.js';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/** `memlane session create|list|revoke` (contract §1). */
export async function sessionCommand(app: App, argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { agent: { type: 'string' }, ttl: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  switch (action) {
    case 'create': {
      const agent = requireAgent(values.agent);
      const ttlMs = values.ttl === undefined ? undefined : parseTtl(values.ttl);
      const s = await app.sessions.create(agent, { ...(ttlMs !== undefined && { ttlMs }) });
      if (values.json) {
        out.write(`${JSON.stringify({ session_id: s.session_id, agent_id: s.agent_id, token: s.token, expires_at: iso(s.expires_at) })}\n`);
      } else {
        out.write(`${s.token}\n`);
        process.stderr.write(
          `session ${s.session_id} for agent "${agent}", expires ${iso(s.expires_at)}.\n` +
            'The token above is shown only this once: put it in MEMLANE_SESSION_TOKEN or pass it as session_token.\n',
        );
      }
      return 0;
    }
    case 'list': {
      const agent = values.agent === undefined ? undefined : requireAgent(values.agent);
      const rows = await app.sessions.list(agent);
      const now = Date.now();
      const state = (r: (typeof rows)[number]) => (r.revoked_at !== null ? 'revoked' : r.expires_at <= now ? 'expired' : 'active');
      if (values.json) {
        const list = rows.map((r) => ({ session_id: r.session_id, agent_id: r.agent_id, origin: r.origin, state: state(r), created_at: iso(r.created_at), expires_at: iso(r.expires_at), revoked_at: iso(r.revoked_at) }));
        out.write(`${JSON.stringify(list)}\n`);
      } else {
        out.write('session_id            agent              state    origin         created_at                expires_at\n');
        for (const r of rows) {
          out.write(`${r.session_id}  ${r.agent_id.padEnd(17)}  ${state(r).padEnd(7)}  ${r.origin.padEnd(13)}  ${iso(r.created_at)}  ${iso(r.expires_at)}\n`);
        }
      }
      return 0;
    }
    case 'revoke': {
      const id = positionals[0];
      if (id === undefined || !sessionIdSchema.safeParse(id).success) throw new UsageError('usage: memlane session revoke <session_id> (ses_ + 16 hex)');
      const done = await app.sessions.revoke(id);
      if (!done) {
        process.stderr.write(`no active session ${id}\n`);
        return 1;
      }
      process.stderr.write(`session ${id} revoked; every running server refuses it from its next call\n`);
      return 0;
    }
    default:
      throw new UsageError('usage: memlane session create --agent <id> [--ttl 7d] | list [--agent <id>] | revoke <session_id>');
  }
}

function requireAgent(agent: string | undefined): string {
  if (agent === undefined) throw new UsageError('--agent <id> is required');
  const parsed = agentIdSchema.safeParse(agent);
  if (!parsed.success) throw new UsageError(`--agent: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
