import { describe } from '../store/db.js';
import { reembedAll } from '../store/reembed.js';
import { defineCommand, parseOrUsage } from './command.js';
import { prepareModel } from './model.js';
import { progressBar } from './progress.js';

/** `memlane reembed`: every memory, re-embedded with the configured embedder (contract §5). */
export const reembedCommand = defineCommand<Record<string, never>>({
  parse(argv) {
    parseOrUsage({ args: argv, options: {}, strict: true });
    return {};
  },
  open: { adopt: true },
  async run(app) {
    const to = { provider: app.embedder.provider, model: app.embedder.model, dim: app.embedder.dim };
    const from = app.db.embedder;
    if (from.provider === to.provider && from.model === to.model && from.dim === to.dim && !(await app.db.getMeta('reembed_target'))) {
      process.stderr.write(`every memory is already embedded with ${describe(to)}; nothing to do\n`);
      return 0;
    }
    process.stderr.write(`re-embedding with ${describe(to)} (was ${describe(from)})\n`);
    const bar = progressBar('reembed');
    try {
      await prepareModel(app.embedder);
      const result = await reembedAll(app.db, app.embedder, ({ done, total }) => bar.update(done, total));
      bar.stop();
      process.stderr.write(`${result.memories} memories re-embedded${result.resumed ? ` (${result.resumed} carried over from an interrupted run)` : ''}; the database now uses ${describe(to)}\n`);
      return 0;
    } catch (err) {
      bar.stop();
      process.stderr.write(`reembed stopped: ${err instanceof Error ? err.message : String(err)}\nThe database still uses ${describe(from)}; run memlane reembed again to continue where it stopped.\n`);
      return 1;
    }
  },
});
