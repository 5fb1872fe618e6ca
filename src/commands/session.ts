import type { App } from '../app.js';
import { agentIdSchema, sessionIdSchema } from '../scope/ids.js';
import { OPEN_ORIGIN } from '../scope/sessions.js';
import { parseTtl } from '../scope/ttl.js';
import { defineCommand, parseOrUsage } from './command.js';
import { UsageError } from './usage.js';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

type SessionArgs =
  | { action: 'create'; agent: string; ttlMs?: number; json: boolean }
  | { action: 'list'; agent?: string; json: boolean }
  | { action: 'revoke'; sessionId: string };

/** `memlane session create|list|revoke` (contract §1). */
export const sessionCommand = defineCommand<SessionArgs>({
  parse(argv) {
    const [action, ...rest] = argv;
    const { values, positionals } = parseOrUsage({
      args: rest,
      options: { agent: { type: 'string' }, ttl: { type: 'string' }, json: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    const extra = (allowed: number) => {
      if (positionals.length > allowed) throw new UsageError(`session ${action}: unexpected argument "${positionals[allowed]}"`);
    };
    switch (action) {
      case 'create': {
        extra(0);
        let ttlMs: number | undefined;
        if (values.ttl !== undefined) {
          try {
            ttlMs = parseTtl(values.ttl);
          } catch (err) {
            throw new UsageError(`--ttl: ${(err as Error).message}`);
          }
        }
        return { action, agent: requireAgent(values.agent), ...(ttlMs !== undefined && { ttlMs }), json: values.json };
      }
      case 'list':
        extra(0);
        if (values.ttl !== undefined) throw new UsageError('session list: --ttl is for session create');
        return { action, ...(values.agent !== undefined && { agent: requireAgent(values.agent) }), json: values.json };
      case 'revoke': {
        const id = positionals[0];
        if (id === undefined) throw new UsageError('session revoke needs a session id (ses_ + 16 hex)');
        if (!sessionIdSchema.safeParse(id).success) throw new UsageError(`session revoke: "${id}" is not a session id (ses_ + 16 hex)`);
        extra(1);
        if (values.agent !== undefined || values.ttl !== undefined) throw new UsageError('session revoke takes only the session id');
        return { action, sessionId: id };
      }
      case undefined:
        throw new UsageError('session needs an action: create, list or revoke');
      default:
        throw new UsageError(`session: unknown action "${action}"; use create, list or revoke`);
    }
  },

  open: (args) => ({ readOnly: args.action === 'list' }),

  async run(app: App, args) {
    const out = process.stdout;
    if (args.action === 'create') {
      const s = await app.sessions.create(args.agent, { ...(args.ttlMs !== undefined && { ttlMs: args.ttlMs }) });
      if (args.json) {
        out.write(`${JSON.stringify({ session_id: s.session_id, agent_id: s.agent_id, token: s.token, expires_at: iso(s.expires_at) })}\n`);
      } else {
        out.write(`${s.token}\n`);
        process.stderr.write(
          `session ${s.session_id} for agent "${args.agent}", expires ${iso(s.expires_at)}.\n` +
            'The token above is shown only this once: put it in MEMLANE_SESSION_TOKEN or pass it as session_token.\n',
        );
      }
      return 0;
    }
    if (args.action === 'list') {
      const rows = await app.sessions.list(args.agent);
      const now = Date.now();
      // An open local default session (origin stdio-default) "ends" when its server exits cleanly.
      const state = (r: (typeof rows)[number]) =>
        r.revoked_at !== null ? (r.origin === OPEN_ORIGIN ? 'ended' : 'revoked') : r.expires_at <= now ? 'expired' : 'active';
      if (args.json) {
        const list = rows.map((r) => ({
          session_id: r.session_id,
          agent_id: r.agent_id,
          origin: r.origin,
          state: state(r),
          created_at: iso(r.created_at),
          expires_at: iso(r.expires_at),
          revoked_at: r.revoked_at === null ? null : iso(r.revoked_at),
        }));
        out.write(`${JSON.stringify(list)}\n`);
      } else {
        out.write('session_id            agent              state    origin         created_at                expires_at\n');
        for (const r of rows) {
          out.write(`${r.session_id}  ${r.agent_id.padEnd(17)}  ${state(r).padEnd(7)}  ${r.origin.padEnd(13)}  ${iso(r.created_at)}  ${iso(r.expires_at)}\n`);
        }
      }
      return 0;
    }
    if (!(await app.sessions.revoke(args.sessionId))) {
      process.stderr.write(`no active session ${args.sessionId}\n`);
      return 1;
    }
    process.stderr.write(`session ${args.sessionId} revoked; every running server refuses it from its next call\n`);
    return 0;
  },
});

function requireAgent(agent: string | undefined): string {
  if (agent === undefined) throw new UsageError('--agent <id> is required');
  const parsed = agentIdSchema.safeParse(agent);
  if (!parsed.success) throw new UsageError(`--agent: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
