/**
 * stdout belongs to the MCP protocol: a stray line there breaks clients. Every
 * log line goes to stderr, as `memlane: <level>: <message>`.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const threshold = order[(process.env.MEMLANE_LOG_LEVEL as Level) ?? 'info'] ?? order.info;

function write(level: Level, message: string): void {
  if (order[level] < threshold) return;
  process.stderr.write(`memlane: ${level}: ${message}\n`);
}

export const log = {
  /** Whether messages of `level` are written (to skip building expensive ones). */
  enabled: (level: Level) => order[level] >= threshold,
  debug: (m: string) => write('debug', m),
  info: (m: string) => write('info', m),
  warn: (m: string) => write('warn', m),
  error: (m: string) => write('error', m),
};
