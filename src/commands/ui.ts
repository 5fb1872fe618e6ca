import { log } from '../log.js';
import { isLoopbackName } from '../transport/http-guard.js';
import { announceLogin, startInspectorServer } from '../ui/serve.js';
import { defineCommand, parseOrUsage } from './command.js';
import { UsageError } from './usage.js';

/** `memlane ui [--port 8788] [--host 127.0.0.1]`: the web inspector, until SIGINT or SIGTERM. */
export const uiCommand = defineCommand<{ host: string; port: number }>({
  parse(argv) {
    const { values } = parseOrUsage({
      args: argv,
      options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '8788' } },
      allowPositionals: false,
      strict: true,
    });
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65_535) throw new UsageError(`--port: "${values.port}" is not a port number (0–65535; 0 picks a free one)`);
    return { host: values.host, port };
  },
  async run(app, args) {
    const server = await startInspectorServer(app, args);
    if (!isLoopbackName(args.host)) {
      log.warn(`the inspector listens on ${args.host}, beyond loopback: its login link and cookie travel in plain HTTP; put a TLS proxy in front`);
    }
    announceLogin(server.inspector.loginUrl(server.origin));
    const why = await new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    log.info(`inspector: shutting down (${why})`);
    await server.close();
    return 0;
  },
});
